import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { quoteLiteral } from '../src/core/duckdb/sql.js';
import { makeExtract } from '../test/support/extracts.js';
import { createUser, type TestServer, type TestUser } from '../test/support/server.js';
import { benchServer } from './support.js';

/** The query benchmarks' fixture: a served instance with one `facts` table readable by an analyst. */

export interface QueryFixture {
  server: TestServer;
  analyst: TestUser;
  /** The published Parquet file of `facts`, for the direct-DuckDB baselines. */
  factsFile: string;
  query(sql: string, body?: Record<string, unknown>): Promise<{ status: number; body: string }>;
  close(): Promise<void>;
}

export async function queryFixture(
  workDir: string,
  rows: number,
  queryConfig: Record<string, unknown> = {},
): Promise<QueryFixture> {
  const server = await benchServer(workDir, { query: queryConfig });
  await makeExtract(join(workDir, 'extracts'), 'bench', [
    {
      name: 'facts',
      select: `SELECT range AS id, range % 1000 AS k, (range * 7) % 10007 AS v, 'label ' || (range % 100) AS label FROM range(${rows})`,
    },
  ]);
  await server.ctx.orchestrator.rebuild();
  await server.ctx.repos.registry.register({
    id: 'facts',
    name: 'facts',
    source: 'bench',
    source_type: 'local',
  });
  const admin = await createUser(server.ctx, 'admin');
  const analyst = await createUser(server.ctx, 'analyst');
  await server.ctx.repos.permissions.grantUser(analyst.id, {
    dataset: 'facts',
    access: 'read',
    granted_by: admin.id,
  });
  const state = await server.ctx.repos.syncState.getState('facts');
  const file = state?.files[0];
  if (!file) throw new Error('facts was not published');
  return {
    server,
    analyst,
    factsFile: join(workDir, file.path),
    query: (sql, body = {}) => postQuery(server.url, analyst.auth, { sql, ...body }),
    close: () => server.close(),
  };
}

/** A plain in-memory DuckDB with `facts` as a view over the same Parquet file: the baselines' engine. */
export async function directFacts(factsFile: string, threads: number) {
  const instance = await DuckDBInstance.create(':memory:', { threads: String(threads) });
  const conn = await instance.connect();
  await conn.run(`CREATE VIEW facts AS SELECT * FROM read_parquet(${quoteLiteral(factsFile)})`);
  return {
    conn,
    close() {
      conn.closeSync();
      instance.closeSync();
    },
  };
}

/** One keep-alive connection pool for the benchmark's own requests. */
const agent = new Agent({ keepAlive: true });

/**
 * `POST /api/query` as a thin client: node:http on a keep-alive connection. The point-lookup
 * baselines run in-process with no client at all, so the client's own cost (undici's `fetch`
 * adds 0.3–0.5 ms at p50 and up to 3 ms at p95 on this machine, in the server's own process) is
 * kept as small as a client can make it rather than charged to the server.
 */
export function postQuery(
  url: string,
  auth: string,
  body: Record<string, unknown>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/api/query`,
      { method: 'POST', agent, headers: { authorization: auth, 'content-type': 'application/json' } },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          text += chunk;
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
        response.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}
