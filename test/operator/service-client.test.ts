import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SchedulerJobList } from '../../src/contract/index.js';
import { HttpFailure } from '../../src/core/http/retry.js';
import { isUnreachable } from '../../src/core/schedule/loop.js';
import { syncTrigger } from '../../src/core/schedule/plan.js';
import { httpSchedulerPort } from '../../src/operator/commands/scheduler.js';
import {
  ServiceClient,
  ServiceRefusal,
  ServiceSetupError,
  serviceEndpoint,
} from '../../src/operator/service-client.js';
import { FakeHttpServer, sendJson, sendMalformedJson } from '../fakes/http.js';

/**
 * The HTTP side of a service process (01 §5, 08 §1.3): a fake app that accepts one token at a time,
 * so the tests can rotate it, refuse it, fail or answer garbage.
 */
describe('the service client and the scheduler over HTTP', () => {
  let app: FakeHttpServer;
  let dir: string;
  let accepted = 'agnes_pat_first';
  let answer: { status: number; body: unknown } | 'malformed' | null = null;
  const list: SchedulerJobList = {
    server_time: '2026-03-15T12:00:00.000Z',
    timezone: 'UTC',
    in_process: false,
    jobs: [],
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'agnes-service-client-'));
    app = await FakeHttpServer.start((request, res) => {
      if (answer === 'malformed') return sendMalformedJson(res);
      if (answer) return sendJson(res, answer.status, answer.body);
      if (request.path === '/api/health') return sendJson(res, 200, { status: 'healthy' });
      if (request.headers.authorization !== `Bearer ${accepted}`)
        return sendJson(res, 401, { detail: 'invalid or missing credentials', code: 'unauthorized' });
      if (request.path === '/api/scheduler/jobs') return sendJson(res, 200, list);
      return sendJson(res, 202, { status: 'triggered', jobs: [], skipped: [] });
    });
  });
  afterAll(async () => {
    await app.close();
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    app.requests.length = 0;
    accepted = 'agnes_pat_first';
    answer = null;
  });

  const fileClient = async (token: string) => {
    await writeFile(join(dir, 'token'), `${token}\n`);
    return new ServiceClient(
      serviceEndpoint({ AGNES_API_URL: app.url, AGNES_TOKEN_FILE: join(dir, 'token') }),
    );
  };
  const sentTokens = () => app.requests.map((r) => r.headers.authorization?.replace('Bearer ', ''));

  it('needs a token and an http(s) API URL, naming the variables', () => {
    expect(() => serviceEndpoint({})).toThrow(ServiceSetupError);
    expect(() => serviceEndpoint({})).toThrow('set AGNES_TOKEN or AGNES_TOKEN_FILE');
    expect(() => serviceEndpoint({ AGNES_TOKEN: 't', AGNES_API_URL: 'ftp://x' })).toThrow('AGNES_API_URL');
    expect(serviceEndpoint({ AGNES_TOKEN: ' t ' })).toEqual({ apiUrl: 'http://127.0.0.1:8000', token: 't' });
  });

  it('reads the token file once, and again only after a 401, retrying that request once', async () => {
    const client = await fileClient('agnes_pat_first');
    await client.get('/api/scheduler/jobs');
    await writeFile(join(dir, 'token'), 'agnes_pat_second\n');
    await client.get('/api/scheduler/jobs');
    accepted = 'agnes_pat_second';
    await client.get('/api/scheduler/jobs');
    expect(sentTokens()).toEqual([
      'agnes_pat_first',
      'agnes_pat_first',
      'agnes_pat_first',
      'agnes_pat_second',
    ]);
  });

  it('after a refused token re-reads the file on every request until one is accepted', async () => {
    const client = await fileClient('agnes_pat_revoked');
    const refused = await client.get('/api/scheduler/jobs').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ServiceRefusal);
    expect(refused).toMatchObject({ status: 401, code: 'unauthorized' });
    expect(isUnreachable(refused)).toBe(false);
    await expect(client.get('/api/scheduler/jobs')).rejects.toMatchObject({ status: 401 });
    await writeFile(join(dir, 'token'), 'agnes_pat_first\n');
    await client.get('/api/scheduler/jobs');
    // A freshly read token is not retried; a refused one is read again before the next request.
    expect(sentTokens()).toEqual(['agnes_pat_revoked', 'agnes_pat_revoked', 'agnes_pat_first']);
  });

  it('does not retry a 401 with a fixed AGNES_TOKEN', async () => {
    const client = new ServiceClient(
      serviceEndpoint({ AGNES_API_URL: app.url, AGNES_TOKEN: 'agnes_pat_old' }),
    );
    await expect(client.post('/api/sync/trigger', {})).rejects.toMatchObject({ status: 401 });
    expect(app.requests).toHaveLength(1);
  });

  it('tells unreachable (no connection, no answer in time, 5xx, broken JSON) from refusals', async () => {
    const closed = new ServiceClient({ apiUrl: 'http://127.0.0.1:9', token: 't' });
    const noConnection = await closed.get('/api/scheduler/jobs').catch((error: unknown) => error);
    expect(noConnection).toBeInstanceOf(HttpFailure);
    expect(isUnreachable(noConnection)).toBe(true);
    expect(await closed.health()).toBe('unreachable');

    const client = new ServiceClient({ apiUrl: app.url, token: accepted });
    answer = { status: 503, body: { detail: 'starting', code: 'unavailable' } };
    expect(isUnreachable(await client.get('/api/scheduler/jobs').catch((error: unknown) => error))).toBe(
      true,
    );
    answer = 'malformed';
    expect(isUnreachable(await client.get('/api/scheduler/jobs').catch((error: unknown) => error))).toBe(
      true,
    );
    answer = null;
    expect(await client.health()).toBe('healthy');
  });

  it('stands by when the app schedules in-process, and says what a 403 means', async () => {
    const port = httpSchedulerPort(new ServiceClient({ apiUrl: app.url, token: accepted }));
    expect(await port.list()).toEqual(list);
    answer = { status: 200, body: { ...list, in_process: true } };
    expect(await port.list()).toBeNull();
    answer = { status: 403, body: { detail: 'requires role admin or higher', code: 'forbidden_role' } };
    await expect(port.list()).rejects.toThrow("the scheduler's service account lacks the admin role (403)");
    answer = { status: 403, body: { detail: 'requires a service account', code: 'forbidden' } };
    await expect(port.list()).rejects.toThrow("not a service account's personal access token");
  });

  it("sends a trigger as the job's own request", async () => {
    const port = httpSchedulerPort(new ServiceClient({ apiUrl: app.url, token: accepted }));
    await port.fire({
      jobs: [],
      source: 'shop',
      tables: ['a', 'b'],
      request: syncTrigger('shop', ['a', 'b']),
      delayMs: 0,
    });
    expect(app.requests.map((r) => [r.method, r.path, r.body])).toEqual([
      ['POST', '/api/sync/trigger', { source: 'shop', tables: ['a', 'b'] }],
    ]);
  });
});
