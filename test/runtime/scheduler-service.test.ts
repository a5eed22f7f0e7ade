import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { schedulerServices } from '../../src/runtime/scheduler.js';
import { fakeConnector } from '../support/connectors.js';
import { until } from '../support/processes.js';
import { type TestServer, withServer } from '../support/server.js';

/**
 * The in-process scheduler as a runtime service (scheduler.in_process): listed after the job runner,
 * started with the app, it starts due syncs on the real job runner (an extractor child per job),
 * and stops with the app.
 */
describe('the scheduler inside the app', () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const serve = (inProcess: boolean, logs?: string[]) =>
    withServer({
      ...(logs ? { logs } : {}),
      connectors: [fakeConnector({ type: 'acme' })],
      config: {
        data_sources: { acme: { enabled: true } },
        scheduler: { tick_seconds: 1, in_process: inProcess },
      },
      extractor: {
        command: process.execPath,
        args: ['--import', 'tsx', join(import.meta.dirname, '..', 'support', 'extract-child.ts')],
      },
      startServices: true,
      services: schedulerServices,
    });

  it('starts with the app and syncs a due table through the job runner, once', async () => {
    const logs: string[] = [];
    server = await serve(true, logs);
    const { ctx } = server;
    expect(ctx.services.names).toEqual([
      'replica-heartbeat',
      'query-engine',
      'job-runner',
      'scripts',
      'push-profiles',
      'jira-worker',
      'scheduler',
    ]);
    await ctx.repos.registry.register({
      id: 'accounts',
      name: 'accounts',
      source: 'acme',
      source_type: 'acme',
      sync_schedule: 'every 15m',
    });
    await ctx.repos.registry.register({
      id: 'invoices',
      name: 'invoices',
      source: 'acme',
      source_type: 'acme',
      sync_schedule: 'manual',
    });

    const job = await until(
      async () => {
        const jobs = (await ctx.repos.jobs.list({ kind: 'sync' })).items;
        return jobs.length > 0 && jobs.every((j) => j.status === 'succeeded') && jobs;
      },
      'the scheduled sync to finish',
      20_000,
    );
    expect(job.map((j) => ({ source: j.source, tables: j.tables, requested_by: j.requested_by }))).toEqual([
      { source: 'acme', tables: ['accounts'], requested_by: null },
    ]);
    // Its start is the table's last run: not due again for 15 minutes, whatever the ticks.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect((await ctx.repos.jobs.list({ kind: 'sync' })).total).toBe(1);
    expect((await ctx.repos.syncState.getState('accounts'))?.rows).toBe(5);

    // Stopped with the app: no tick reaches the closed state store afterwards.
    await server.close();
    server = undefined;
    const settled = logs.length;
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(logs.slice(settled)).toEqual([]);
    const scheduler = logs.map((line) => JSON.parse(line)).filter((line) => line.service === 'scheduler');
    // Maintenance, which had never run (at the first tick), and one table sync.
    expect(scheduler.map((line) => line.msg)).toEqual(['triggered', 'triggered']);
    expect(scheduler.map((line) => line.jobs).sort()).toEqual([['maintenance'], ['table_sync:accounts']]);
  });

  it('is not on the service list with scheduler.in_process off', async () => {
    server = await serve(false);
    expect(server.ctx.services.names).toEqual([
      'replica-heartbeat',
      'query-engine',
      'job-runner',
      'scripts',
      'push-profiles',
      'jira-worker',
    ]);
    await server.ctx.repos.registry.register({
      id: 'accounts',
      name: 'accounts',
      source: 'acme',
      source_type: 'acme',
    });
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect((await server.ctx.repos.jobs.list({ kind: 'sync' })).total).toBe(0);
  });
});
