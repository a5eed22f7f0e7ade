import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSkills } from '../../src/core/skills.js';
import { HOSTILE } from '../core/query/corpus.js';
import { cliHome, DA_BIN, loginWithToken, runDa } from '../support/cli.js';
import { type SyncedLaptop, syncedAnalyst } from '../support/cli-synced.js';
import { CLIENT_INFO, tool } from '../support/mcp.js';
import { hostEnv } from '../support/processes.js';
import { createUser } from '../support/server.js';

/**
 * 14 §4 and §6: `da mcp` driven by the SDK's own client over stdio, for an analyst whose laptop
 * has synced `orders` and `events` (`syncedAnalyst`); `holidays` is readable but not synced,
 * `clicks` is remote, `salaries` discoverable, `secret_plans` hidden.
 */

/** `da mcp` as an MCP client starts it: the laptop's environment, output piped. */
async function daMcp(env: Record<string, string>, args: string[] = []) {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [DA_BIN, 'mcp', ...args],
    env: hostEnv(env) as Record<string, string>,
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const client = new Client(CLIENT_INFO);
  await client.connect(transport);
  return { client, transport, stderr: () => stderr };
}

async function rpcError(work: Promise<unknown>): Promise<McpError> {
  try {
    await work;
  } catch (error) {
    if (error instanceof McpError) return error;
    throw error;
  }
  throw new Error('expected a JSON-RPC error');
}

describe('da mcp', { timeout: 120_000 }, () => {
  let laptop: SyncedLaptop;
  let agent: Client;
  let env: Record<string, string>;

  /** The server's audit entries of the laptop's user for SQL it ran. */
  const serverQueries = async () =>
    (
      await laptop.fixture.server.ctx.repos.audit.list(
        { user_id: laptop.fixture.analyst.id, action: 'query.execute' },
        { page: 1, per_page: 200 },
      )
    ).total;

  beforeAll(async () => {
    laptop = await syncedAnalyst();
    env = laptop.home.env;
    ({ client: agent } = await daMcp(env));
  });
  afterAll(async () => {
    await agent?.close();
    await laptop?.close();
  });

  it('completes the handshake and lists the tools, marking the tables synced on this laptop', async () => {
    expect(agent.getServerVersion()?.name).toBe('agnes');
    const { tools } = await agent.listTools();
    expect(tools.map((t) => t.name)).toEqual([
      'list_tables',
      'describe_table',
      'query',
      'sample_rows',
      'request_access',
      'search_memory',
    ]);
    const listed = await tool(agent, 'list_tables', { include_locked: true });
    const byId = Object.fromEntries(listed.structured.tables.map((t: { id: string }) => [t.id, t]));
    expect(Object.keys(byId).sort()).toEqual([
      'broken',
      'clicks',
      'events',
      'holidays',
      'orders',
      'refunds',
      'salaries',
    ]);
    expect(byId.orders).toMatchObject({ locked: false, synced_locally: true });
    expect(byId.events).toMatchObject({ locked: false, synced_locally: true });
    expect(byId.holidays).toMatchObject({ locked: false, synced_locally: false });
    expect(byId.salaries).toMatchObject({ locked: true, synced_locally: false });
    expect(listed.text).toContain('synced locally');
  });

  it('runs a query on the local DuckDB when every table it names is synced, else on the server', async () => {
    const before = await serverQueries();
    const local = await tool(agent, 'query', {
      sql: 'SELECT count(*) AS n FROM orders JOIN events USING (id)',
    });
    expect(local.isError).toBe(false);
    expect(local.structured.columns).toEqual(['n']);
    const sample = await tool(agent, 'query', { sql: 'SELECT id FROM orders ORDER BY id', limit: 2 });
    expect(sample.structured).toMatchObject({ rows: [[0], [1]], truncated: true, truncated_reason: 'rows' });
    expect(sample.text).toMatch(/\n\(truncated: 2 of more rows; use limit, a narrower query, or da sync\)$/);
    expect(await serverQueries()).toBe(before);

    const holidays = await tool(agent, 'query', { sql: 'SELECT count(*) AS n FROM holidays' });
    expect(holidays.structured.rows).toEqual([[12]]);
    expect(await serverQueries()).toBe(before + 1);
    const remote = await tool(agent, 'query', { sql: 'SELECT count(*) AS n FROM orders', remote: true });
    expect(remote.structured.rows).toEqual([[50]]);
    expect(await serverQueries()).toBe(before + 2);
    const entry = (
      await laptop.fixture.server.ctx.repos.audit.list(
        { user_id: laptop.fixture.analyst.id, action: 'query.execute' },
        { page: 1, per_page: 1 },
      )
    ).items[0];
    expect(entry).toMatchObject({ client: 'cli', params: { sql: 'SELECT count(*) AS n FROM orders' } });
  });

  it('refuses a file read of the laptop in the local guard, and hostile SQL with the corpus codes', async () => {
    const before = await serverQueries();
    for (const sql of [
      "SELECT * FROM read_text('/etc/passwd')",
      "SELECT content FROM read_text('/etc/passwd') UNION ALL SELECT label FROM orders",
      "SELECT * FROM '/etc/passwd'",
    ]) {
      const answer = await tool(agent, 'query', { sql });
      expect(answer.isError, sql).toBe(true);
      expect(answer.text).not.toMatch(/root:/);
      expect(['forbidden_function', 'invalid_table_reference']).toContain(answer.structured.code);
    }
    expect(await serverQueries()).toBe(before);
    const wrong: string[] = [];
    for (const c of HOSTILE) {
      const answer = await tool(agent, 'query', { sql: c.sql });
      if (!answer.isError || answer.structured?.code !== c.code || 'rows' in answer.structured)
        wrong.push(`${c.sql} → ${answer.text}`);
    }
    expect(wrong).toEqual([]);
  });

  it('sees a sync made in another terminal at once', async () => {
    const before = await serverQueries();
    const sync = await laptop.da('sync', '--table', 'holidays', '--quiet');
    expect(sync.code).toBe(0);
    const listed = await tool(agent, 'list_tables');
    expect(listed.structured.tables.find((t: { id: string }) => t.id === 'holidays').synced_locally).toBe(
      true,
    );
    expect((await tool(agent, 'query', { sql: 'SELECT count(*) FROM holidays' })).structured.rows).toEqual([
      [12],
    ]);
    expect(await serverQueries()).toBe(before);
    // A table whose files went missing is not local any more: the server answers for it.
    await rm(join(laptop.home.localDir, 'server', 'parquet', 'holidays.parquet'));
    expect((await tool(agent, 'query', { sql: 'SELECT count(*) FROM holidays' })).structured.rows).toEqual([
      [12],
    ]);
    expect(await serverQueries()).toBe(before + 1);
  });

  it('uses the server for describe_table, sample_rows, request_access and resources; hidden = missing', async () => {
    const described = await tool(agent, 'describe_table', { table: 'orders' });
    expect(described.structured).toMatchObject({ id: 'orders', name: 'Orders', rows: 50 });
    expect(described.structured.columns.map((c: { name: string }) => c.name)).toEqual([
      'id',
      'label',
      'amount',
    ]);
    expect((await tool(agent, 'sample_rows', { table: 'orders', limit: 3 })).structured.row_count).toBe(3);
    const typo = await tool(agent, 'describe_table', { table: 'no_such_table' });
    expect(typo.text).toBe('unknown_table: table no_such_table does not exist');
    for (const name of ['describe_table', 'sample_rows', 'request_access']) {
      const hidden = await tool(agent, name, { table: 'secret_plans' });
      expect(hidden.text, name).toBe('unknown_table: table secret_plans does not exist');
    }
    expect((await tool(agent, 'describe_table', { table: 'salaries' })).structured.code).toBe(
      'table_forbidden',
    );
    expect(
      (await tool(agent, 'request_access', { table: 'salaries', reason: 'audit' })).structured,
    ).toMatchObject({
      status: 'pending',
      table_id: 'salaries',
    });
    const { resources } = await agent.listResources();
    expect(resources.map((r) => r.name).sort()).toEqual(['broken', 'clicks', 'events', 'holidays', 'orders']);
    const read = await agent.readResource({ uri: 'agnes://tables/orders/schema' });
    expect(JSON.parse(String((read.contents[0] as { text: string }).text)).columns).toHaveLength(3);
    for (const table of ['secret_plans', 'salaries', 'no_such_table'])
      expect((await rpcError(agent.readResource({ uri: `agnes://tables/${table}/schema` }))).code).toBe(
        -32002,
      );
    const { repos } = laptop.fixture.server.ctx;
    const published = await repos.knowledge.create({
      title: 'Orders are net of refunds',
      content: 'Orders amounts are net of refunds.',
      category: 'business_logic',
      tags: [],
      status: 'approved',
      contributors: [],
      source_user: null,
      content_hash: null,
      origin: 'manual',
    });
    await repos.knowledge.create({
      title: 'Orders draft of someone else',
      content: 'Orders draft.',
      category: 'business_logic',
      tags: [],
      status: 'pending',
      contributors: [],
      source_user: null,
      content_hash: null,
      origin: 'collector',
    });
    const memory = await tool(agent, 'search_memory', { query: 'orders' });
    expect(memory.structured.items).toEqual([
      {
        id: published.id,
        title: 'Orders are net of refunds',
        content: 'Orders amounts are net of refunds.',
        category: 'business_logic',
        votes: 0,
      },
    ]);
    const guides = await loadSkills();
    expect((await agent.listPrompts()).prompts.map((p) => p.name)).toEqual(guides.map((g) => g.name));
  });

  it('refuses queries to a viewer', async () => {
    const home = await cliHome();
    try {
      const viewer = await createUser(laptop.fixture.server.ctx, 'viewer');
      await loginWithToken(home, laptop.fixture.server.url, viewer);
      const { client } = await daMcp(home.env);
      expect((await tool(client, 'query', { sql: 'SELECT 1' })).structured.code).toBe('forbidden_role');
      expect((await tool(client, 'list_tables')).isError).toBe(false);
      await client.close();
    } finally {
      await home.cleanup();
    }
  });

  it('writes nothing but JSON-RPC on stdout and exits 0 when stdin closes', async () => {
    const child = spawn(process.execPath, [DA_BIN, 'mcp'], {
      env: hostEnv(env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const send = (message: unknown) => child.stdin.write(`${JSON.stringify(message)}\n`);
    const answered = (count: number) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (stdout.split('\n').filter(Boolean).length >= count) resolve();
          else setTimeout(check, 20);
        };
        check();
      });
    send({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: CLIENT_INFO },
    });
    await answered(1);
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    send({
      jsonrpc: '2.0',
      id: 2,
      method: 'tools/call',
      params: { name: 'query', arguments: { sql: 'SELECT 42 AS x' } },
    });
    send({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'list_tables', arguments: {} } });
    await answered(3);
    child.stdin.end();
    expect(await exited).toBe(0);
    const lines = stdout.split('\n').filter(Boolean);
    expect(lines).toHaveLength(3);
    const messages = lines.map((line) => JSON.parse(line));
    for (const message of messages) expect(message.jsonrpc).toBe('2.0');
    expect(messages.find((m) => m.id === 2).result.structuredContent.rows).toEqual([[42]]);
  });

  it('answers every request a script piped in before it closed stdin, then exits 0', async () => {
    const requests = [
      {
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: CLIENT_INFO },
      },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      {
        jsonrpc: '2.0',
        id: 2,
        method: 'tools/call',
        params: { name: 'query', arguments: { sql: 'SELECT 42 AS x' } },
      },
    ];
    const piped = await runDa(['mcp'], {
      env,
      input: requests.map((r) => `${JSON.stringify(r)}\n`).join(''),
    });
    expect(piped.code).toBe(0);
    const messages = piped.stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line));
    expect(messages.map((m) => m.id)).toEqual([1, 2]);
    expect(messages[1].result.structuredContent.rows).toEqual([[42]]);
  });

  it('exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, [DA_BIN, 'mcp'], {
      env: hostEnv(env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await new Promise<void>((resolve) => {
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        stderr += chunk;
        if (stderr.includes('on stdio')) resolve();
      });
    });
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});

describe('da mcp credentials and an unreachable server', { timeout: 120_000 }, () => {
  it('exits 3 before serving without a credential or with one the server refuses', async () => {
    const laptop = await syncedAnalyst();
    try {
      const home = await cliHome();
      try {
        const none = await runDa(['mcp', '--server', laptop.fixture.server.url], {
          env: home.env,
          input: '',
        });
        expect(none.code).toBe(3);
        expect(none.stdout).toBe('');
        expect(none.stderr).toMatch(/not signed in/);
      } finally {
        await home.cleanup();
      }
      await laptop.fixture.server.ctx.repos.tokens.revokeAllForUser(laptop.fixture.analyst.id);
      const refused = await runDa(['mcp', '--json'], { env: laptop.home.env, input: '' });
      expect(refused.code).toBe(3);
      expect(refused.stdout).toBe('');
      expect(refused.stderr).toMatch(/^error: /m);
    } finally {
      await laptop.close();
    }
  });

  it('keeps serving local queries when the server cannot be reached', async () => {
    const laptop = await syncedAnalyst();
    await laptop.fixture.close();
    try {
      const { client, stderr } = await daMcp(laptop.home.env);
      try {
        expect(stderr()).toMatch(/only local queries/);
        expect((await tool(client, 'query', { sql: 'SELECT count(*) FROM orders' })).structured.rows).toEqual(
          [[50]],
        );
        const listed = await tool(client, 'list_tables');
        expect(listed.structured.code).toBe('server_unreachable');
        expect(listed.text).toMatch(/^server_unreachable: cannot reach /);
        expect((await tool(client, 'query', { sql: 'SELECT * FROM holidays' })).structured.code).toBe(
          'server_unreachable',
        );
      } finally {
        await client.close();
      }
    } finally {
      await laptop.home.cleanup();
    }
  });
});
