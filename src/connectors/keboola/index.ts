import type { Connector } from '../../core/extract/connector.js';
import { keboolaConfig } from './config.js';
import { discoverKeboola } from './discover.js';
import { extractKeboola, type KeboolaOptions } from './extractor.js';

/** Keboola Storage (07 §3); tests build one with a DuckDB-file remote seam and short timings. */
export function createKeboolaConnector(options: KeboolaOptions = {}): Connector {
  return {
    type: 'keboola',
    traits: { direction: 'pull', queryModes: ['local', 'remote'] },
    config: keboolaConfig,
    remoteExtension: 'keboola',
    extract: (input, context) => extractKeboola(input, context, options),
    discover: (source) => discoverKeboola(source, options.tuning),
  };
}

export const keboolaConnector: Connector = createKeboolaConnector();
