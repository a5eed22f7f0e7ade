import { createHash } from 'node:crypto';
import { PACKAGE_VERSION } from '../../core/package-info.js';
import { APP_CSS } from './styles.js';

/**
 * Asset URLs carry a version derived from the stylesheet and the package version, so a release
 * never serves a browser yesterday's cached file under the same URL. The version is a path
 * segment, not a query: browser modules import each other by relative URL, and one module must
 * have one URL or it runs twice.
 */
const ASSET_VERSION = createHash('sha256')
  .update(`${PACKAGE_VERSION}\n${APP_CSS}`)
  .digest('base64url')
  .slice(0, 10);

export function assetUrl(name: string): string {
  return `/static/${ASSET_VERSION}/${name}`;
}
