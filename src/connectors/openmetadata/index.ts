import type { Logger } from 'pino';
import type { CatalogEnricher } from '../../core/catalog/enrichment.js';
import type { InstanceConfig } from '../../core/config/index.js';
import type { RetryTuning } from '../../core/http/retry.js';
import { OpenMetadataClient } from './client.js';
import { OpenMetadataEnricher } from './enricher.js';

/**
 * OpenMetadata (07 §6) is not a data source: it enriches the catalog and feeds
 * `agnes catalog-export`. It is on when both `openmetadata.url` and `openmetadata.token` are set.
 */

export type OpenMetadataSettings = InstanceConfig['openmetadata'];

export function isOpenMetadataEnabled(settings: OpenMetadataSettings): boolean {
  return Boolean(settings.url && settings.token);
}

/** A client of the configured instance, or null when OpenMetadata is off. */
export function openMetadataClient(
  settings: OpenMetadataSettings,
  tuning: Partial<RetryTuning> = {},
): OpenMetadataClient | null {
  if (!settings.url || !settings.token) return null;
  return new OpenMetadataClient(settings.url, settings.token, tuning);
}

/**
 * The catalog's enricher, or null when OpenMetadata is off. Lookups run on the catalog's request
 * path, so they are not retried: one attempt within the timeout, then the failure is cached.
 */
export function openMetadataEnricher(settings: OpenMetadataSettings, log: Logger): CatalogEnricher | null {
  const client = openMetadataClient(settings, { retries: 0 });
  if (!client || !settings.url) return null;
  return new OpenMetadataEnricher({
    client,
    url: settings.url,
    fqnTemplate: settings.fqn_template,
    ttlMs: settings.cache_ttl_seconds * 1000,
    log,
  });
}
