import { quoteIdent, quoteLiteral } from '../../src/core/duckdb/sql.js';
import type { AttachRemote } from '../../src/core/extract/remote-attach.js';

/**
 * The remote-catalog seam of 07 §0 for tests: whatever extension a `_remote_attach` row names,
 * the DuckDB file at `path` (same schemas and table names as the remote) is attached read-only
 * under the row's alias.
 */
export function attachDuckDbFile(path: string): AttachRemote {
  return async (conn, request) => {
    await conn.run(`ATTACH ${quoteLiteral(path)} AS ${quoteIdent(request.alias)} (READ_ONLY)`);
  };
}

/** Set in a test server's environment: its extractor child attaches this file for remote sources. */
export const REMOTE_CATALOG_ENV = 'AGNES_TEST_REMOTE_CATALOG';
