import type { Connector } from '../../core/extract/connector.js';
import { extractLocal } from './extractor.js';

export const localConnector: Connector = {
  type: 'local',
  extract: extractLocal,
};
