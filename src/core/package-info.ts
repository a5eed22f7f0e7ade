import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The package root: two levels above this module in both `src/core` and `dist/core`. */
export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export const PACKAGE_VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** The compiled `agnes` executable, which the app starts for extractor children. */
export const AGNES_BIN = fileURLToPath(new URL('../../dist/bin/agnes.js', import.meta.url));
