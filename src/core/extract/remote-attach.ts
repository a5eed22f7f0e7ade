import type { DuckDBConnection } from '@duckdb/node-api';
import { quoteIdent, quoteLiteral } from '../duckdb/sql.js';

export interface RemoteAttachRequest {
  alias: string;
  /** A DuckDB extension named by a connector's `remoteExtension` or `duckdb` for a plain DuckDB file attached read-only. */
  extension: string;
  url: string;
  token: string | null;
}

export interface RemoteAttachOptions {
  /** Allow `INSTALL … FROM community` before `LOAD` (off by default: no network at rebuild time). */
  installExtensions: boolean;
}

/**
 * The remote-catalog seam (07 §0 common model): production loads the real extension; tests attach a DuckDB file
 * with the same schema under the same alias. Names are validated by the caller; quoting here is
 * the second line of defence.
 */
export type AttachRemote = (
  conn: DuckDBConnection,
  request: RemoteAttachRequest,
  options: RemoteAttachOptions,
) => Promise<void>;

/** LOAD (or INSTALL) failed: the catalog type is not available on this machine. */
export class ExtensionUnavailableError extends Error {
  constructor(
    readonly extension: string,
    options?: { cause?: unknown },
  ) {
    super(`extension ${extension} could not be loaded`, options);
    this.name = 'ExtensionUnavailableError';
  }
}

export const attachRemoteCatalog: AttachRemote = async (conn, request, options) => {
  const alias = quoteIdent(request.alias);
  if (request.extension === 'duckdb') {
    await conn.run(`ATTACH ${quoteLiteral(request.url)} AS ${alias} (READ_ONLY)`);
    return;
  }
  const extension = quoteIdent(request.extension);
  try {
    if (options.installExtensions) await conn.run(`INSTALL ${extension} FROM community`);
    await conn.run(`LOAD ${extension}`);
  } catch (error) {
    throw new ExtensionUnavailableError(request.extension, { cause: error });
  }
  const token = request.token ? `, TOKEN ${quoteLiteral(request.token)}` : '';
  await conn.run(`ATTACH ${quoteLiteral(request.url)} AS ${alias} (TYPE ${extension}${token}, READ_ONLY)`);
};
