import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import type { SyncStateUpdate } from '../../../src/core/state/repositories/index.js';
import type { Runtime } from '../../../src/runtime/runtime.js';
import { makeExtract } from '../../support/extracts.js';
import type { TestServer } from '../../support/server.js';
import { registerTable } from './fixtures.js';

/**
 * The small access fixture of 10 §4, published for real: source `shop` with `orders` (to be
 * granted), `salaries` (private, discoverable), `secret_plans` (private, not discoverable),
 * `holidays` (public), `refunds` (bucket `sales`), a three-shard table `events` and `scratch`
 * (published, never registered); plus a remote table `clicks` recorded in `sync_state` the way a
 * Keboola rebuild records one, and `broken`, a table the last rebuild skipped.
 */
export async function publishShop(ctx: Runtime, dataDir: string): Promise<void> {
  await makeExtract(join(dataDir, 'extracts'), 'shop', [
    { name: 'orders', rows: 50, description: 'Customer orders' },
    { name: 'salaries', rows: 5 },
    { name: 'secret_plans', rows: 3 },
    { name: 'holidays', rows: 12 },
    { name: 'refunds', rows: 7 },
    { name: 'events', rows: 20, shards: 3 },
    { name: 'scratch', rows: 2 },
  ]);
  const report = await ctx.orchestrator.rebuild();
  if (report.sources.shop?.status !== 'ok') throw new Error(`fixture rebuild: ${JSON.stringify(report)}`);
  const shop = { source: 'shop', source_type: 'local' };
  await registerTable(ctx, 'orders', {
    ...shop,
    name: 'Orders',
    bucket: 'sales',
    description: 'Customer orders',
  });
  await registerTable(ctx, 'refunds', { ...shop, bucket: 'sales' });
  await registerTable(ctx, 'salaries', { ...shop, bucket: 'hr' });
  await registerTable(ctx, 'secret_plans', { ...shop, bucket: 'hr', is_discoverable: false });
  await registerTable(ctx, 'holidays', { ...shop, is_public: true });
  await registerTable(ctx, 'events', { ...shop, bucket: 'web' });
  await registerTable(ctx, 'broken', { ...shop, bucket: 'web' });
  await registerTable(ctx, 'clicks', {
    source: 'keboola',
    source_type: 'keboola',
    bucket: 'web',
    query_mode: 'remote',
  });
  const generation = await ctx.orchestrator.currentGeneration();
  const extra: SyncStateUpdate[] = [
    {
      table_id: 'clicks',
      source: 'keboola',
      query_mode: 'remote',
      layout: 'remote',
      last_sync: '2026-04-09T05:00:00.000Z',
      extracted_at: '2026-04-09T05:00:00.000Z',
      rows: null,
      file_size_bytes: 0,
      uncompressed_size_bytes: null,
      columns: 4,
      hash: null,
      files: [],
      status: 'ok',
      error: null,
      description: 'Web clicks',
      updated_generation: generation,
    },
    {
      table_id: 'broken',
      source: 'shop',
      query_mode: 'local',
      layout: 'single',
      last_sync: null,
      extracted_at: null,
      rows: null,
      file_size_bytes: null,
      uncompressed_size_bytes: null,
      columns: null,
      hash: null,
      files: [],
      status: 'bind_failed',
      error: 'view does not bind',
      description: null,
      updated_generation: generation,
    },
  ];
  await ctx.repos.syncState.upsertStates(extra);
}

/**
 * A request with the path sent exactly as written: `fetch` would normalise `%2e%2e` and `..`
 * segments before they reach the server, which is not what an attacker's client does.
 */
export function rawRequest(
  server: Pick<TestServer, 'url'>,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<{ status: number; body: Buffer; headers: Record<string, string | string[] | undefined> }> {
  const url = new URL(server.url);
  // An explicit length: Node sends a DELETE body with neither a length nor chunked encoding.
  const sent =
    body === undefined
      ? headers
      : { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) };
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path, method, headers: sent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), headers: res.headers }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

export const rawGet = (server: Pick<TestServer, 'url'>, path: string, headers: Record<string, string> = {}) =>
  rawRequest(server, 'GET', path, headers);
