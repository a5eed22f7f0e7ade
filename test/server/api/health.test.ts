import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createUser, type TestServer, type TestUser, withServer } from '../../support/server.js';
import { registerTable } from './fixtures.js';

describe('GET /api/health/detailed', () => {
  let server: TestServer;
  let admin: TestUser;
  let viewer: TestUser;

  beforeAll(async () => {
    server = await withServer();
    [admin, viewer] = await Promise.all([createUser(server.ctx, 'admin'), createUser(server.ctx, 'viewer')]);
    await registerTable(server.ctx, 'old_public', { is_public: true });
    await registerTable(server.ctx, 'old_secret');
    const old = new Date(Date.now() - 72 * 3_600_000).toISOString();
    const state = (table_id: string) => ({
      table_id,
      source: 'local',
      query_mode: 'local' as const,
      layout: 'single' as const,
      last_sync: old,
      extracted_at: old,
      rows: 5,
      file_size_bytes: 10,
      uncompressed_size_bytes: 10,
      columns: 2,
      hash: 'x',
      files: [],
      status: 'ok',
      error: null,
      description: null,
      updated_generation: 1,
    });
    await server.ctx.repos.syncState.upsertStates([state('old_public'), state('old_secret')]);
  });
  afterAll(async () => server.close());

  it('lists stale tables only among those the caller can read, and user counts and the state store and replica only for admins', async () => {
    const forViewer = await call(server, 'GET', '/api/health/detailed', { auth: viewer.auth });
    expect(forViewer.status).toBe(200);
    expect(forViewer.body).toMatchObject({
      status: 'degraded',
      version: expect.any(String),
      services: {
        state_db: { status: 'healthy' },
        analytics: { status: expect.any(String), views: expect.any(Number), failed_sources: [] },
        data: { status: 'degraded', tables: 2, total_rows: 10, stale_tables: ['old_public'] },
        sync: { running_jobs: 0, last_job: null },
        disk: { free_bytes: expect.any(Number) },
      },
    });
    expect(forViewer.body.services).not.toHaveProperty('users');
    expect(forViewer.body.services).not.toHaveProperty('state_store');
    expect(forViewer.body.services).not.toHaveProperty('replica');
    expect(forViewer.body.services).not.toHaveProperty('replicas');

    const forAdmin = await call(server, 'GET', '/api/health/detailed', { auth: admin.auth });
    expect(forAdmin.body.services.data.stale_tables).toEqual(['old_public', 'old_secret']);
    expect(forAdmin.body.services.users).toEqual({ count: 2 });
    expect(forAdmin.body.services.state_store).toEqual({ dialect: 'sqlite' });
    expect(forAdmin.body.services.replica).toEqual({
      instance_id: server.ctx.replica.instance_id,
      host: hostname(),
      started_at: server.ctx.replica.started_at,
    });
    expect(server.ctx.replica.instance_id).toMatch(/^[0-9a-f-]{36}$/);
    // This test server never starts its services, so it has not registered as a live replica.
    expect(forAdmin.body.services.replicas).toEqual([]);
  });

  it('reports the last job, and needs a credential', async () => {
    await server.ctx.repos.jobs.create({
      kind: 'sync',
      requested_by: admin.id,
      source: 'local',
      tables: ['old_secret'],
    });
    const response = await call(server, 'GET', '/api/health/detailed', { auth: viewer.auth });
    expect(response.body.services.sync.last_job).toEqual({
      id: expect.any(String),
      kind: 'sync',
      source: 'local',
      status: 'queued',
      created_at: expect.any(String),
      finished_at: null,
    });
    expect(response.text).not.toContain('old_secret');
    expect((await call(server, 'GET', '/api/health/detailed')).status).toBe(401);
    const anon = await call(server, 'GET', '/api/health');
    expect(Object.keys(anon.body).sort()).toEqual(['status', 'timestamp', 'version']);
  });
});
