import { createBigQueryConnector } from '../../src/connectors/bigquery/index.js';
import { BUILT_IN_CONNECTORS } from '../../src/connectors/index.js';
import { ConnectorRegistry } from '../../src/core/extract/connector.js';
import { runExtractChild } from '../../src/runtime/extract-child.js';
import { fakeConnector } from './connectors.js';
import { attachDuckDbFile, REMOTE_CATALOG_ENV } from './remote-catalog.js';

/**
 * The extractor child of a test server whose runtime lists the test-only `acme` connector: the
 * same child code as `agnes extract --stdin-config`, given the same list as the server. With
 * `AGNES_TEST_REMOTE_CATALOG` set, BigQuery's remote catalog is that DuckDB file.
 */
const remoteCatalog = process.env[REMOTE_CATALOG_ENV];
const connectors = remoteCatalog
  ? [
      ...BUILT_IN_CONNECTORS.filter((connector) => connector.type !== 'bigquery'),
      createBigQueryConnector({ attachRemote: attachDuckDbFile(remoteCatalog) }),
    ]
  : BUILT_IN_CONNECTORS;
process.exitCode = await runExtractChild(
  new ConnectorRegistry([...connectors, fakeConnector({ type: 'acme' })]),
);
