import type { Connector } from '../../core/extract/connector.js';
import { localConfig } from './config.js';
import { discoverLocal } from './discover.js';
import { extractLocal } from './extractor.js';

/** Local files (07 §1): the template every connector folder follows. */
export const localConnector: Connector = {
  type: 'local',
  traits: { direction: 'pull', queryModes: ['local'] },
  config: localConfig,
  extract: extractLocal,
  discover: discoverLocal,
};
