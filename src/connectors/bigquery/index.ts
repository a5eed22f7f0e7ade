import type { Connector } from '../../core/extract/connector.js';
import { bigQueryConfig } from './config.js';
import { discoverBigQuery } from './discover.js';
import { type BigQueryOptions, extractBigQuery } from './extractor.js';

/** BigQuery, remote only (07 §4); tests build one with a DuckDB-file remote seam and short timings. */
export function createBigQueryConnector(options: BigQueryOptions = {}): Connector {
  return {
    type: 'bigquery',
    traits: { direction: 'pull', queryModes: ['remote'] },
    config: bigQueryConfig,
    remoteExtension: 'bigquery',
    extract: (input, context) => extractBigQuery(input, context, options),
    discover: (source) => discoverBigQuery(source, options.tuning),
  };
}

export const bigQueryConnector: Connector = createBigQueryConnector();
