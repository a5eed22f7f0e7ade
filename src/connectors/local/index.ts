import type { Connector } from '../../core/extract/connector.js';
import { discoverLocal } from './discover.js';
import { extractLocal } from './extractor.js';

export const localConnector: Connector = {
  type: 'local',
  traits: { direction: 'pull', queryModes: ['local'] },
  extract: extractLocal,
  discover: discoverLocal,
};
