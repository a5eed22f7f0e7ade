import type { Connector } from '../core/extract/connector.js';
import { bigQueryConnector } from './bigquery/index.js';
import { jiraConnector } from './jira/index.js';
import { keboolaConnector } from './keboola/index.js';
import { localConnector } from './local/index.js';

/**
 * The connectors built into Agnes. A new connector is one folder under `src/connectors/` and one
 * entry here; the runtime, the configuration and the extract child all take this list.
 */
export const BUILT_IN_CONNECTORS: readonly Connector[] = [
  localConnector,
  keboolaConnector,
  bigQueryConnector,
  jiraConnector,
];
