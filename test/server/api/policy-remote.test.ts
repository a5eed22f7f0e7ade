import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuck } from '../../../src/core/duckdb/engine.js';
import { ExtractWriter } from '../../../src/core/extract/writer.js';
import { injectViews, SALT, sliceView } from '../../core/policies/policy-fixture.js';
import { attachDuckDbFile } from '../../support/remote-catalog.js';
import { call, createUser, type TestServer, type TestUser, withServer } from '../../support/server.js';
import { registerTable } from './fixtures.js';

/** A remote table (query_mode remote) has no file: its sandbox view applies the filter and masks (12 §3). */
describe('row policies on a remote table', () => {
  let scratch: string;
  let server: TestServer;
  let reader: TestUser;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'agnes-policy-remote-'));
    const remotePath = join(scratch, 'warehouse.duckdb');
    const remote = await openDuck(remotePath);
    try {
      await remote.conn.run(
        `CREATE TABLE events AS SELECT range AS id, ['EU', 'US'][(range % 2) + 1] AS region, 'u' || range AS user_key FROM range(8)`,
      );
    } finally {
      remote.close();
    }
    const attachRemote = attachDuckDbFile(remotePath);
    server = await withServer({
      attachRemote,
      env: { AGNES_POLICY_SALT: SALT },
    });
    const writer = await ExtractWriter.open(join(server.dataDir, 'extracts', 'wh'));
    try {
      writer.addRemoteAttach({ alias: 'whdb', extension: 'duckdb', url: remotePath, token_env: null });
      writer.addRemoteTable({
        name: 'events',
        rows: null,
        extractedAt: '2026-04-09T07:00:00.000Z',
        alias: 'whdb',
        select: 'SELECT * FROM whdb.main.events',
      });
      const result = await writer.commit({ attachRemote });
      if (result.failed.length > 0) throw new Error(JSON.stringify(result.failed));
    } finally {
      await writer.abort();
    }
    const report = await server.ctx.orchestrator.rebuild();
    if (report.sources.wh?.status !== 'ok') throw new Error(`fixture rebuild: ${JSON.stringify(report)}`);
    await registerTable(server.ctx, 'events', {
      source: 'wh',
      source_type: 'keboola',
      bucket: 'wh',
      query_mode: 'remote',
    });
    const admin = await createUser(server.ctx, 'admin');
    reader = await createUser(server.ctx, 'analyst');
    await server.ctx.repos.permissions.grantUser(reader.id, {
      dataset: 'wh.*',
      access: 'read',
      granted_by: admin.id,
    });
  });
  afterAll(async () => {
    await server.close();
    await rm(scratch, { recursive: true, force: true });
  });

  it('filters and masks the remote view itself, with no slice file', async () => {
    const views = injectViews(server.ctx);
    const query = (sql: string) => call(server, 'POST', '/api/query', { auth: reader.auth, body: { sql } });
    const whole = await query('SELECT count(*) FROM events');
    expect(whole.body.rows).toEqual([[8]]);
    views.set('events', sliceView("region = 'EU'", [{ column: 'user_key', mask: 'hash' }]));
    const bound = await query("SELECT id, user_key FROM events WHERE region = 'US' OR TRUE ORDER BY id");
    expect(bound.status, bound.text).toBe(200);
    const digest = (value: string) => createHash('sha256').update(`${SALT}:${value}`).digest('hex');
    expect(bound.body.rows).toEqual([0, 2, 4, 6].map((id) => [id, digest(`u${id}`)]));
    expect(bound.body.column_types).toEqual(['BIGINT', 'VARCHAR']);
    expect(await server.ctx.repos.policySlices.list()).toEqual([]);
  });
});
