import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { httpClient, initializeMessage, rawMcp, rawSession, tool } from '../../support/mcp.js';
import { call, createUser, type TestServer, type TestUser, withServer } from '../../support/server.js';
import { publishShop } from '../api/sync-fixtures.js';

/**
 * 14 §3: `/mcp` over HTTP. Bearer only, sessions bound to their user and re-checked on every
 * request, protocol-version and `Origin` checks, JSON-RPC for every refusal, shared query limits.
 */

const PUBLIC_URL = 'https://agnes.example.com';
const RAISED = { auth: { rate_limits: { default: { max: 100_000, window_seconds: 60 } } } };
const VERSION = { 'mcp-protocol-version': '2025-06-18' };
const listTools = (id = 2) => ({ jsonrpc: '2.0', id, method: 'tools/list' });

/** The error the SDK's client throws for an HTTP-level refusal. */
async function httpRefusal(work: Promise<unknown>): Promise<StreamableHTTPError> {
  try {
    await work;
  } catch (error) {
    if (error instanceof StreamableHTTPError) return error;
    throw error;
  }
  throw new Error('expected an HTTP refusal');
}

function expectRpcError(
  answer: { status: number; body: unknown; headers: Headers },
  status: number,
  rpc: number,
  code: string,
) {
  expect(answer.status).toBe(status);
  expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
  expect(answer.body).toEqual({
    jsonrpc: '2.0',
    id: null,
    error: { code: rpc, message: expect.any(String), data: { code } },
  });
}

describe('/mcp over streamable HTTP', () => {
  let server: TestServer;
  let admin: TestUser;
  let analyst: TestUser;

  beforeAll(async () => {
    server = await withServer({
      config: {
        ...RAISED,
        server: { public_url: PUBLIC_URL, cors_origins: [PUBLIC_URL, 'https://evil.example'] },
      },
    });
    await publishShop(server.ctx, server.dataDir);
    [admin, analyst] = await Promise.all([
      createUser(server.ctx, 'admin'),
      createUser(server.ctx, 'analyst'),
    ]);
    await server.ctx.repos.permissions.grantUser(analyst.id, {
      dataset: 'orders',
      access: 'read',
      granted_by: admin.id,
    });
  });
  afterAll(async () => server.close());
  afterEach(() => vi.useRealTimers());

  it('accepts a PAT or a JWT as Bearer and never the session cookie', async () => {
    const login = await call(server, 'POST', '/auth/password/login', {
      body: { email: analyst.email, password: analyst.password },
    });
    const jwt = login.body.access_token as string;
    const { client } = await httpClient(server.url, `Bearer ${jwt}`);
    expect((await tool(client, 'list_tables')).isError).toBe(false);
    await client.close();

    const byCookie = await rawMcp(server.url, initializeMessage(), {
      headers: { cookie: `access_token=${jwt}` },
    });
    expectRpcError(byCookie, 401, -32000, 'unauthorized');
    expect(byCookie.headers.get('www-authenticate')).toBe('Bearer');
    expectRpcError(await rawMcp(server.url, initializeMessage()), 401, -32000, 'unauthorized');
    expectRpcError(
      await rawMcp(server.url, initializeMessage(), { auth: 'Bearer agnes_pat_nope' }),
      401,
      -32000,
      'unauthorized',
    );
  });

  it('refuses a revoked PAT and a deactivated user at once, in the middle of a session', async () => {
    for (const cut of ['revoke', 'deactivate'] as const) {
      const user = await createUser(server.ctx, 'analyst');
      const { client } = await httpClient(server.url, user.auth);
      expect((await tool(client, 'list_tables')).isError).toBe(false);
      if (cut === 'revoke') await server.ctx.repos.tokens.revokeAllForUser(user.id);
      else await server.ctx.repos.users.update(user.id, { active: false });
      const refusal = await httpRefusal(client.callTool({ name: 'list_tables', arguments: {} }));
      expect(refusal.code, cut).toBe(401);
      await client.close().catch(() => undefined);
    }
  });

  it('answers forbidden_role to a user demoted in the middle of a session', async () => {
    const user = await createUser(server.ctx, 'analyst');
    const { client } = await httpClient(server.url, user.auth);
    try {
      expect((await tool(client, 'query', { sql: 'SELECT 1 AS one' })).structured.rows).toEqual([[1]]);
      await server.ctx.repos.users.update(user.id, { role: 'viewer' });
      expect((await tool(client, 'query', { sql: 'SELECT 1' })).structured.code).toBe('forbidden_role');
      expect((await tool(client, 'list_tables')).isError).toBe(false);
    } finally {
      await client.close();
    }
  });

  it('binds a session to its user: another credential, an unknown or a missing id are refused', async () => {
    const session = await rawSession(server.url, analyst.auth);
    const own = await rawMcp(server.url, listTools(), { auth: analyst.auth, session, headers: VERSION });
    expect(own.status).toBe(200);
    expect(own.body.result.tools).toHaveLength(6);
    const other = await createUser(server.ctx, 'admin');
    expectRpcError(
      await rawMcp(server.url, listTools(), { auth: other.auth, session, headers: VERSION }),
      404,
      -32001,
      'not_found',
    );
    expectRpcError(
      await rawMcp(server.url, listTools(), {
        auth: analyst.auth,
        session: 'x'.repeat(43),
        headers: VERSION,
      }),
      404,
      -32001,
      'not_found',
    );
    expectRpcError(
      await rawMcp(server.url, listTools(), { auth: analyst.auth, headers: VERSION }),
      400,
      -32000,
      'bad_request',
    );
    expect(session).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('ends a session on DELETE, after which its id is unknown', async () => {
    const session = await rawSession(server.url, analyst.auth);
    const closed = await rawMcp(server.url, null, {
      auth: analyst.auth,
      session,
      method: 'DELETE',
      headers: VERSION,
    });
    expect(closed.status).toBe(200);
    expectRpcError(
      await rawMcp(server.url, listTools(), { auth: analyst.auth, session, headers: VERSION }),
      404,
      -32001,
      'not_found',
    );
  });

  it('closes a session after 30 minutes idle', async () => {
    const session = await rawSession(server.url, analyst.auth);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 29 * 60_000);
    expect(
      (await rawMcp(server.url, listTools(), { auth: analyst.auth, session, headers: VERSION })).status,
    ).toBe(200);
    vi.setSystemTime(Date.now() + 31 * 60_000);
    expectRpcError(
      await rawMcp(server.url, listTools(), { auth: analyst.auth, session, headers: VERSION }),
      404,
      -32001,
      'not_found',
    );
  });

  it('keeps at most 10 sessions per user, closing the oldest', async () => {
    const user = await createUser(server.ctx, 'analyst');
    const sessions: string[] = [];
    for (let i = 0; i < 11; i++) sessions.push(await rawSession(server.url, user.auth));
    const status = async (session: string) =>
      (await rawMcp(server.url, listTools(), { auth: user.auth, session, headers: VERSION })).status;
    expect(await status(sessions[0]!)).toBe(404);
    for (const session of sessions.slice(1)) expect(await status(session)).toBe(200);
  });

  it('refuses a foreign Origin with 403 whatever the credential, and accepts its own', async () => {
    for (const origin of ['https://evil.example', 'null', 'http://127.0.0.1', `${PUBLIC_URL}:8443`]) {
      const answer = await rawMcp(server.url, initializeMessage(), {
        auth: analyst.auth,
        headers: { origin },
      });
      expectRpcError(answer, 403, -32000, 'forbidden');
      expect(answer.headers.get('access-control-allow-origin')).toBeNull();
      expectRpcError(
        await rawMcp(server.url, initializeMessage(), { headers: { origin } }),
        403,
        -32000,
        'forbidden',
      );
    }
    const own = await rawMcp(server.url, initializeMessage(), {
      auth: analyst.auth,
      headers: { origin: PUBLIC_URL },
    });
    expect(own.status).toBe(200);
    expect(own.body.result.serverInfo.name).toBe('agnes');
    // The rest of the API grants CORS to the listed origins; /mcp never does.
    const api = await call(server, 'GET', '/api/health', { headers: { origin: PUBLIC_URL } });
    expect(api.headers.get('access-control-allow-origin')).toBe(PUBLIC_URL);
    expect(own.headers.get('access-control-allow-origin')).toBeNull();
    const refused = await rawMcp(server.url, null, {
      auth: analyst.auth,
      rawBody: '{',
      headers: { origin: PUBLIC_URL },
    });
    expect(refused.status).toBe(400);
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('speaks the protocol versions the SDK supports and refuses others with 400', async () => {
    for (const version of ['2025-06-18', '2025-03-26']) {
      const session = await rawSession(server.url, analyst.auth, version);
      const answer = await rawMcp(server.url, listTools(), {
        auth: analyst.auth,
        session,
        headers: { 'mcp-protocol-version': version },
      });
      expect(answer.status, version).toBe(200);
    }
    const session = await rawSession(server.url, analyst.auth);
    const refused = await rawMcp(server.url, listTools(), {
      auth: analyst.auth,
      session,
      headers: { 'mcp-protocol-version': '1999-01-01' },
    });
    expectRpcError(refused, 400, -32000, 'bad_request');
    const init = await rawMcp(server.url, initializeMessage(), {
      auth: analyst.auth,
      headers: { 'mcp-protocol-version': '1999-01-01' },
    });
    expectRpcError(init, 400, -32000, 'bad_request');
  });

  it('answers every HTTP-level refusal as JSON-RPC: 400, 405, 413, 415', async () => {
    const auth = analyst.auth;
    expectRpcError(
      await rawMcp(server.url, null, { auth, rawBody: '{"jsonrpc": "2.0", ' }),
      400,
      -32700,
      'bad_request',
    );
    expectRpcError(await rawMcp(server.url, null, { auth, rawBody: '' }), 400, -32700, 'bad_request');
    expectRpcError(await rawMcp(server.url, { hello: 'world' }, { auth }), 400, -32600, 'bad_request');
    expectRpcError(await rawMcp(server.url, [], { auth }), 400, -32600, 'bad_request');
    expectRpcError(
      await rawMcp(server.url, initializeMessage(), { auth, headers: { 'content-type': 'text/plain' } }),
      415,
      -32000,
      'unsupported_media_type',
    );
    const big = {
      ...initializeMessage(),
      params: { ...initializeMessage().params, pad: 'x'.repeat(1024 * 1024) },
    };
    expectRpcError(await rawMcp(server.url, big, { auth }), 413, -32000, 'payload_too_large');
    const get = await rawMcp(server.url, null, { auth, method: 'GET' });
    expectRpcError(get, 405, -32000, 'method_not_allowed');
    expect(get.headers.get('allow')).toBe('POST, DELETE');
    const session = await rawSession(server.url, auth);
    const unknown = await rawMcp(
      server.url,
      { jsonrpc: '2.0', id: 7, method: 'tables/drop' },
      { auth, session, headers: VERSION },
    );
    expect(unknown.body).toMatchObject({ id: 7, error: { code: -32601 } });
    const invalid = await rawMcp(
      server.url,
      { jsonrpc: '2.0', id: 8, method: 'tools/call', params: { arguments: {} } },
      { auth, session, headers: VERSION },
    );
    expect(invalid.body).toMatchObject({ id: 8, error: { code: -32602 } });
  });

  it('is documented in OpenAPI with its auth label', async () => {
    const doc = (await call(server, 'GET', '/openapi.json')).body;
    for (const method of ['post', 'delete', 'get'])
      expect(doc.paths['/mcp'][method]['x-agnes-auth']).toBe('user');
  });
});

describe('/mcp shares the query limits of /api/query', () => {
  it('counts MCP queries against the caller query rate limit', async () => {
    const server = await withServer({
      config: {
        ...RAISED,
        auth: { rate_limits: { ...RAISED.auth.rate_limits, query: { max: 3, window_seconds: 60 } } },
      },
    });
    try {
      const user = await createUser(server.ctx, 'analyst');
      const { client } = await httpClient(server.url, user.auth);
      expect(
        (await call(server, 'POST', '/api/query', { auth: user.auth, body: { sql: 'SELECT 1' } })).status,
      ).toBe(200);
      expect((await tool(client, 'query', { sql: 'SELECT 1' })).isError).toBe(false);
      expect((await tool(client, 'sample_rows', { table: 'nothing' })).structured.code).toBe('unknown_table');
      const limited = await tool(client, 'query', { sql: 'SELECT 1' });
      expect(limited.structured.code).toBe('rate_limited');
      expect(
        (await call(server, 'POST', '/api/query', { auth: user.auth, body: { sql: 'SELECT 1' } })).status,
      ).toBe(429);
      expect((await tool(client, 'list_tables')).isError).toBe(false);
      await client.close();
    } finally {
      await server.close();
    }
  });

  it('shares the per-user query concurrency', async () => {
    const server = await withServer({
      config: { ...RAISED, query: { timeout_seconds: 2, per_user_concurrency: 1 } },
    });
    try {
      const user = await createUser(server.ctx, 'analyst');
      const { client } = await httpClient(server.url, user.auth);
      const runaway = call(server, 'POST', '/api/query', {
        auth: user.auth,
        body: { sql: 'SELECT sum(a.range * b.range) FROM range(10000000) a, range(10000000) b' },
      });
      const deadline = Date.now() + 1_500;
      let answer = await tool(client, 'query', { sql: 'SELECT 1' });
      while (!answer.isError && Date.now() < deadline)
        answer = await tool(client, 'query', { sql: 'SELECT 1' });
      expect(answer.structured.code).toBe('too_many_queries');
      expect((await runaway).status).toBe(408);
      await client.close();
    } finally {
      await server.close();
    }
  });

  it('does not exist when mcp.enabled is false', async () => {
    const server = await withServer({ config: { mcp: { enabled: false } } });
    try {
      const user = await createUser(server.ctx, 'analyst');
      expect((await rawMcp(server.url, initializeMessage(), { auth: user.auth })).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});
