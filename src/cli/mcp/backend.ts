import type {
  CatalogTable,
  MemoryList,
  QueryResult,
  RequestAccessResult,
  ServedProfile,
  TableDetail,
} from '../../contract/index.js';
import { isAgnesError } from '../../core/errors.js';
import { ToolRefusalError } from '../../core/mcp/refusal.js';
import type { McpBackend } from '../../core/mcp/server.js';
import type { Role } from '../../core/state/schema.js';
import type { ApiClient } from '../client.js';
import { CliError } from '../errors.js';
import type { LocalQueryEngine } from './local-engine.js';
import type { SyncedTable } from './synced.js';

export interface CliBackendOptions {
  client: ApiClient;
  engine: LocalQueryEngine;
  /** The synced tables as the sync state says now. */
  synced(): Promise<SyncedTable[]>;
  /** The role `/auth/me` gave at start, or null when the server could not be reached then. */
  role: Role | null;
}

/** An API failure as the tool refusal the server's own MCP tools would give. */
function refusal(error: unknown): unknown {
  if (!(error instanceof CliError)) return error;
  if (error.code === 'unreachable') return new ToolRefusalError('server_unreachable', error.message, 503);
  return new ToolRefusalError(error.code, error.message, error.status ?? 500);
}

async function api<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    throw refusal(error);
  }
}

const path = (table: string) => encodeURIComponent(table);

/**
 * `da mcp`'s backend (14 §4): queries run locally when every table they name is synced here,
 * through the guard and a locked-down DuckDB; everything else asks the server over the API as
 * the signed-in user, so the server's access function and guard decide.
 */
export function cliBackend(options: CliBackendOptions): McpBackend<null> {
  const { client, engine } = options;
  return {
    context: () => null,
    // Remote calls are refused by the server's own role check; this one guards local queries,
    // which any user may run on files already synced when the server could not be asked.
    role: async () => options.role,
    catalog: async (_call, includeLocked) =>
      (
        await api(
          client.json<{ tables: CatalogTable[] }>('GET', '/api/catalog/tables', {
            query: { include_locked: includeLocked },
          }),
        )
      ).tables,
    syncedLocally: async () => new Set((await options.synced()).map((t) => t.id)),
    tableDetail: (_call, table) => api(client.json<TableDetail>('GET', `/api/catalog/tables/${path(table)}`)),
    profile: async (_call, table) => {
      const answer = await api(
        client.request<ServedProfile>('GET', `/api/catalog/profile/${path(table)}`, { accept: [404] }),
      );
      return answer.status === 404 ? null : answer.body;
    },
    query: async (_call, { sql, limit, remote }) => {
      if (!remote) {
        try {
          return await engine.query(sql, limit, await options.synced());
        } catch (error) {
          // A table that is not synced here may be one the server has: ask it.
          if (!isAgnesError(error) || error.code !== 'unknown_table') throw error;
        }
      }
      return api(client.json<QueryResult>('POST', '/api/query', { body: { sql, limit } }));
    },
    sampleRows: (_call, table, limit) =>
      api(
        client.json<QueryResult>('GET', `/api/catalog/tables/${path(table)}/preview`, { query: { limit } }),
      ),
    requestAccess: (_call, table, reason) =>
      api(
        client.json<RequestAccessResult>('POST', '/api/access-requests', {
          body: reason === undefined ? { table_id: table } : { table_id: table, reason },
        }),
      ),
    // The statuses the server's own tool searches: rejected, revoked and expired never guide.
    searchMemory: async (_call, query, limit) => {
      const found = await api(
        client.json<MemoryList>('GET', '/api/memory', {
          query: { search: query, status: 'approved,mandatory,pending', sort: 'score', per_page: limit },
        }),
      );
      return found.items.map((item) => ({
        id: item.id,
        title: item.title,
        content: item.content,
        category: item.category,
        votes: item.score,
      }));
    },
  };
}
