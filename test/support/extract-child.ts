import { BUILT_IN_CONNECTORS } from '../../src/connectors/index.js';
import { ConnectorRegistry } from '../../src/core/extract/connector.js';
import { runExtractChild } from '../../src/runtime/extract-child.js';
import { fakeConnector } from './connectors.js';

/**
 * The extractor child of a test server whose runtime lists the test-only `acme` connector: the
 * same child code as `agnes extract --stdin-config`, given the same list as the server.
 */
process.exitCode = await runExtractChild(
  new ConnectorRegistry([...BUILT_IN_CONNECTORS, fakeConnector({ type: 'acme' })]),
);
