import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadAccessView } from '../../../src/core/access/access.js';
import { profileTables } from '../../../src/core/jobs/profile-tables.js';
import { loadSkills } from '../../../src/core/skills.js';
import { HOSTILE } from '../../core/query/corpus.js';
import { CLIENT_INFO, httpClient, tool } from '../../support/mcp.js';
import { createUser, type TestServer, type TestUser, withServer } from '../../support/server.js';
import { publishShop } from '../api/sync-fixtures.js';

/**
 * 14 §1, §2 and §5 over streamable HTTP with the SDK's own client: every tool, resource and prompt
 * for the small access fixture (`publishShop`), in which the analyst may read `orders` and the
 * public `holidays`, `salaries` is discoverable but not readable, `secret_plans` is hidden and
 * `scratch` is published but never registered.
 */

const RAISED = { auth: { rate_limits: { query: { max: 100_000, window_seconds: 60 } } } };

async function rpcError(work: Promise<unknown>): Promise<McpError> {
  try {
    await work;
  } catch (error) {
    if (error instanceof McpError) return error;
    throw error;
  }
  throw new Error('expected a JSON-RPC error');
}

describe('MCP tools, resources and prompts over /mcp', () => {
  let server: TestServer;
  let admin: TestUser;
  let analyst: TestUser;
  let viewer: TestUser;
  let agent: Client;

  beforeAll(async () => {
    server = await withServer({ config: RAISED });
    await publishShop(server.ctx, server.dataDir);
    [admin, analyst, viewer] = await Promise.all([
      createUser(server.ctx, 'admin'),
      createUser(server.ctx, 'analyst'),
      createUser(server.ctx, 'viewer'),
    ]);
    for (const user of [analyst, viewer])
      await server.ctx.repos.permissions.grantUser(user.id, {
        dataset: 'orders',
        access: 'read',
        granted_by: admin.id,
      });
    const report = await profileTables(
      {
        repos: server.ctx.repos,
        dataDir: server.dataDir,
        options: server.ctx.config.profiler,
        log: pino({ level: 'silent' }),
      },
      ['orders'],
      { force: true },
    );
    expect(report.profiled).toEqual(['orders']);
    agent = (await httpClient(server.url, analyst.auth)).client;
  });
  afterAll(async () => {
    await agent?.close();
    await server.close();
  });

  it('completes the handshake and lists the six tools with their argument schemas', async () => {
    expect(agent.getServerVersion()).toMatchObject({ name: 'agnes', version: server.ctx.version });
    expect(agent.getServerCapabilities()).toMatchObject({ tools: {}, resources: {}, prompts: {} });
    expect(agent.getInstructions()).toMatch(/list_tables/);
    const { tools } = await agent.listTools();
    expect(tools.map((t) => t.name)).toEqual([
      'list_tables',
      'describe_table',
      'query',
      'sample_rows',
      'request_access',
      'search_memory',
    ]);
    const query = tools.find((t) => t.name === 'query')!;
    expect(query.inputSchema).toMatchObject({
      type: 'object',
      required: ['sql'],
      additionalProperties: false,
      properties: {
        limit: { minimum: 1, maximum: 100_000, default: 100 },
        format: { default: 'markdown' },
        remote: { type: 'boolean' },
      },
    });
    expect(tools.find((t) => t.name === 'request_access')!.inputSchema.properties).toMatchObject({
      reason: { maxLength: 500 },
    });
  });

  it('lists exactly the tables the analyst may read, and with include_locked the discoverable ones', async () => {
    const readable = (
      await loadAccessView(server.ctx.repos, {
        id: analyst.id,
        email: analyst.email,
        role: 'analyst',
        active: true,
        is_service: false,
        groups: [],
      })
    ).readableTables();
    const listed = await tool(agent, 'list_tables');
    expect(listed.isError).toBe(false);
    const ids = listed.structured.tables.map((t: { id: string }) => t.id).sort();
    expect(ids).toEqual([...readable].sort());
    expect(ids).toEqual(['holidays', 'orders']);
    expect(listed.structured.tables.find((t: { id: string }) => t.id === 'orders')).toEqual({
      id: 'orders',
      name: 'Orders',
      description: 'Customer orders',
      dataset: 'sales',
      rows: 50,
      query_mode: 'local',
      locked: false,
    });
    expect(listed.text).toContain('- orders (Orders; dataset sales, 50 rows, local): Customer orders');

    const all = await tool(agent, 'list_tables', { include_locked: true });
    const locked = all.structured.tables
      .filter((t: { locked: boolean }) => t.locked)
      .map((t: { id: string }) => t.id)
      .sort();
    expect(locked).toEqual(['broken', 'clicks', 'events', 'refunds', 'salaries']);
    expect(all.text).not.toMatch(/secret_plans|scratch/);
    expect(all.structured.tables.find((t: { id: string }) => t.id === 'salaries').rows).toBeNull();
  });

  it('shows an admin the registered tables only', async () => {
    const { client } = await httpClient(server.url, admin.auth);
    try {
      const ids = (await tool(client, 'list_tables')).structured.tables.map((t: { id: string }) => t.id);
      expect(ids).toContain('secret_plans');
      expect(ids).not.toContain('scratch');
    } finally {
      await client.close();
    }
  });

  it('describes a readable table with its columns and profile figures', async () => {
    const described = await tool(agent, 'describe_table', { table: 'orders' });
    expect(described.isError).toBe(false);
    expect(described.structured).toMatchObject({ id: 'orders', name: 'Orders', dataset: 'sales', rows: 50 });
    expect(described.structured.profiled_at).toMatch(/^\d{4}-\d\d-\d\dT/);
    const id = described.structured.columns.find((c: { name: string }) => c.name === 'id');
    expect(id).toEqual({
      name: 'id',
      type: 'BIGINT',
      description: null,
      null_pct: 0,
      distinct: 50,
      min: 0,
      max: 49,
    });
    expect(described.text).toContain('| id | BIGINT | 0 | 50 | 0 | 49 |  |');
  });

  it('answers hidden, unregistered and missing tables exactly like a typo, in every tool and resource', async () => {
    const typo = 'no_such_table';
    const asTypo = (text: string, table: string) => text.replaceAll(table, typo);
    for (const [name, args] of [
      ['describe_table', {}],
      ['sample_rows', { limit: 3 }],
      ['request_access', { reason: 'need it' }],
    ] as const) {
      const expected = await tool(agent, name, { table: typo, ...args });
      expect(expected).toEqual({
        text: `unknown_table: table ${typo} does not exist`,
        structured: { code: 'unknown_table', detail: `table ${typo} does not exist` },
        isError: true,
      });
      for (const hidden of ['secret_plans', 'scratch']) {
        const answer = await tool(agent, name, { table: hidden, ...args });
        expect({ ...answer, text: asTypo(answer.text, hidden) }, `${name} ${hidden}`).toEqual({
          ...expected,
          structured: { code: 'unknown_table', detail: `table ${hidden} does not exist` },
        });
      }
      if (name !== 'request_access') {
        const forbidden = await tool(agent, name, { table: 'salaries', ...args });
        expect(forbidden.text).toBe('table_forbidden: you do not have read access to table salaries');
      }
    }
    const queried = await tool(agent, 'query', { sql: `SELECT * FROM ${typo}` });
    for (const hidden of ['secret_plans', 'scratch']) {
      const answer = await tool(agent, 'query', { sql: `SELECT * FROM ${hidden}` });
      expect(asTypo(answer.text, hidden)).toBe(queried.text);
      expect(answer.structured.code).toBe('unknown_table');
    }
    expect((await tool(agent, 'query', { sql: 'SELECT * FROM salaries' })).structured.code).toBe(
      'table_forbidden',
    );
    const missing = await rpcError(agent.readResource({ uri: `agnes://tables/${typo}/schema` }));
    expect(missing.code).toBe(-32002);
    for (const table of ['secret_plans', 'scratch', 'salaries']) {
      const refused = await rpcError(agent.readResource({ uri: `agnes://tables/${table}/schema` }));
      expect(refused.code).toBe(-32002);
      expect(refused.message).toBe(missing.message);
    }
  });

  it('lists one schema resource per readable table and reads it as JSON', async () => {
    const { resources } = await agent.listResources();
    expect(resources.map((r) => r.uri).sort()).toEqual([
      'agnes://tables/holidays/schema',
      'agnes://tables/orders/schema',
    ]);
    const { resourceTemplates } = await agent.listResourceTemplates();
    expect(resourceTemplates).toEqual([
      expect.objectContaining({ uriTemplate: 'agnes://tables/{id}/schema' }),
    ]);
    const read = await agent.readResource({ uri: 'agnes://tables/orders/schema' });
    expect(read.contents[0]).toMatchObject({ mimeType: 'application/json' });
    expect(JSON.parse(String((read.contents[0] as { text: string }).text))).toEqual({
      id: 'orders',
      name: 'Orders',
      columns: [
        { name: 'id', type: 'BIGINT', description: null },
        { name: 'label', type: 'VARCHAR', description: null },
        { name: 'amount', type: 'DECIMAL(21,1)', description: null },
      ],
    });
  });

  it('offers one prompt per bundled guide, whose message is the guide', async () => {
    const guides = await loadSkills();
    const { prompts } = await agent.listPrompts();
    expect(prompts.map((p) => p.name)).toEqual(guides.map((g) => g.name));
    expect(prompts.every((p) => p.arguments === undefined || p.arguments.length === 0)).toBe(true);
    const querying = await agent.getPrompt({ name: 'querying' });
    expect(querying.messages).toEqual([
      { role: 'user', content: { type: 'text', text: guides.find((g) => g.name === 'querying')!.body } },
    ]);
    expect((await rpcError(agent.getPrompt({ name: 'nope' }))).code).toBe(-32602);
  });

  it('runs SQL through the guard and renders markdown, CSV and JSON', async () => {
    const sql = `SELECT 'a|b' AS "x|y", 'one\ntwo' AS t, 'say "hi", ok' AS q, NULL AS n`;
    const markdown = await tool(agent, 'query', { sql });
    expect(markdown.text).toBe(
      '| x\\|y | t | q | n |\n| --- | --- | --- | --- |\n| a\\|b | one two | say "hi", ok |  |\n',
    );
    expect(markdown.structured).toMatchObject({
      columns: ['x|y', 't', 'q', 'n'],
      rows: [['a|b', 'one\ntwo', 'say "hi", ok', null]],
      row_count: 1,
      truncated: false,
      truncated_reason: null,
    });
    const csv = await tool(agent, 'query', { sql, format: 'csv' });
    expect(csv.text).toBe('x|y,t,q,n\r\na|b,"one\ntwo","say ""hi"", ok",\r\n');
    const json = await tool(agent, 'query', { sql, format: 'json' });
    expect(JSON.parse(json.text)).toEqual(json.structured);
    const rows = await tool(agent, 'query', { sql: 'SELECT id FROM orders ORDER BY id', limit: 2 });
    expect(rows.structured).toMatchObject({ rows: [[0], [1]], truncated: true, truncated_reason: 'rows' });
    expect(rows.text.endsWith('\n(truncated: 2 of more rows; use limit, a narrower query, or da sync)')).toBe(
      true,
    );
    const sample = await tool(agent, 'sample_rows', { table: 'orders', limit: 4 });
    expect(sample.structured.row_count).toBe(4);
    expect(sample.structured.columns).toEqual(['id', 'label', 'amount']);
  });

  it('answers every hostile statement of the guard corpus with its code and no data', async () => {
    const wrong: string[] = [];
    for (const c of HOSTILE) {
      const answer = await tool(agent, 'query', { sql: c.sql });
      if (
        !answer.isError ||
        answer.structured?.code !== c.code ||
        answer.text !== `${c.code}: ${answer.structured.detail}` ||
        'rows' in answer.structured
      )
        wrong.push(`${c.sql} → ${answer.text}`);
    }
    expect(wrong).toEqual([]);
  }, 120_000);

  it('refuses query and sample_rows to a viewer, who still lists and describes', async () => {
    const { client } = await httpClient(server.url, viewer.auth);
    try {
      for (const [name, args] of [
        ['query', { sql: 'SELECT 1' }],
        ['sample_rows', { table: 'orders' }],
      ] as const) {
        expect(await tool(client, name, args)).toEqual({
          text: 'forbidden_role: requires role analyst or higher',
          structured: { code: 'forbidden_role', detail: 'requires role analyst or higher' },
          isError: true,
        });
      }
      expect((await tool(client, 'list_tables')).isError).toBe(false);
      expect((await tool(client, 'describe_table', { table: 'orders' })).isError).toBe(false);
    } finally {
      await client.close();
    }
  });

  it('files an access request once, with the API codes for repeats and granted tables', async () => {
    const requester = await createUser(server.ctx, 'analyst');
    const { client } = await httpClient(server.url, requester.auth);
    try {
      const first = await tool(client, 'request_access', { table: 'salaries', reason: 'payroll audit' });
      expect(first.structured).toEqual({ id: expect.any(String), status: 'pending', table_id: 'salaries' });
      const stored = await server.ctx.repos.accessRequests.get(first.structured.id);
      expect(stored).toMatchObject({ user_id: requester.id, table_id: 'salaries', reason: 'payroll audit' });
      expect((await tool(client, 'request_access', { table: 'salaries' })).structured.code).toBe(
        'already_pending',
      );
      expect((await tool(client, 'request_access', { table: 'holidays' })).structured.code).toBe(
        'already_granted',
      );
    } finally {
      await client.close();
    }
  });

  it('searches the corporate memory the caller may see', async () => {
    const other = await createUser(server.ctx, 'analyst');
    const group = await server.ctx.repos.groups.create({ name: `finance-${Date.now()}` });
    const item = (title: string, extra: Record<string, unknown>) =>
      server.ctx.repos.knowledge.create({
        title,
        content: `${title}: revenue is booked net of refunds`,
        category: 'business_logic',
        tags: [],
        status: 'approved',
        contributors: [],
        source_user: null,
        content_hash: null,
        origin: 'manual',
        ...extra,
      });
    const everyone = await item('Revenue for everyone', {});
    await item('Revenue for finance', { audience: `group:${group.id}` });
    await item('Revenue draft of another', { status: 'pending', source_user: other.id });
    const own = await item('Revenue draft of mine', { status: 'pending', source_user: analyst.id });
    await item('Revenue rejected', { status: 'rejected', source_user: analyst.id });
    await server.ctx.repos.knowledge.setVote(everyone.id, other.id, 1);
    const found = await tool(agent, 'search_memory', { query: 'revenue' });
    expect(found.structured.items.map((i: { title: string }) => i.title).sort()).toEqual([
      'Revenue draft of mine',
      'Revenue for everyone',
    ]);
    expect(found.structured.items.find((i: { id: string }) => i.id === everyone.id)).toEqual({
      id: everyone.id,
      title: 'Revenue for everyone',
      content: 'Revenue for everyone: revenue is booked net of refunds',
      category: 'business_logic',
      votes: 1,
    });
    expect(found.text).toContain('## Revenue draft of mine');
    expect(found.structured.items.some((i: { id: string }) => i.id === own.id)).toBe(true);
    expect(
      (await tool(agent, 'search_memory', { query: 'revenue', limit: 1 })).structured.items,
    ).toHaveLength(1);
  });

  it('refuses bad arguments with -32602, an unknown method with -32601, an unknown tool as unknown_tool', async () => {
    expect((await rpcError(agent.callTool({ name: 'query', arguments: { sql: 1 } }))).code).toBe(-32602);
    expect(
      (await rpcError(agent.callTool({ name: 'query', arguments: { sql: 'SELECT 1', x: 1 } }))).code,
    ).toBe(-32602);
    expect(
      (await rpcError(agent.callTool({ name: 'sample_rows', arguments: { table: 'orders', limit: 101 } })))
        .code,
    ).toBe(-32602);
    const { ListToolsResultSchema } = await import('@modelcontextprotocol/sdk/types.js');
    expect(
      (await rpcError(agent.request({ method: 'tables/drop' } as never, ListToolsResultSchema))).code,
    ).toBe(-32601);
    expect(await tool(agent, 'drop_tables')).toEqual({
      text: 'unknown_tool: no tool named drop_tables',
      structured: { code: 'unknown_tool', detail: 'no tool named drop_tables' },
      isError: true,
    });
  });

  it('audits one entry per tool call with client mcp, and query.execute for queries', async () => {
    const user = await createUser(server.ctx, 'analyst');
    await server.ctx.repos.permissions.grantUser(user.id, {
      dataset: 'orders',
      access: 'read',
      granted_by: admin.id,
    });
    const { client } = await httpClient(server.url, user.auth);
    try {
      await client.listTools();
      await client.listResources();
      await tool(client, 'list_tables');
      await tool(client, 'query', { sql: 'SELECT id FROM orders', limit: 3, format: 'csv' });
      await tool(client, 'query', { sql: 'SELECT * FROM salaries' });
    } finally {
      await client.close();
    }
    // Entries are written once each answer is on its way, as the API's audit hook does.
    const entries = await vi.waitFor(async () => {
      const { items } = await server.ctx.repos.audit.list({ user_id: user.id }, { page: 1, per_page: 50 });
      expect(items).toHaveLength(5);
      return items;
    });
    // Listing and initialize are not audited; the two entries of one query share a millisecond.
    expect(entries.map((e) => e.action).sort()).toEqual([
      'mcp.list_tables',
      'mcp.query',
      'mcp.query',
      'query.execute',
      'query.execute',
    ]);
    expect(entries.every((e) => e.client === 'mcp')).toBe(true);
    const [ok, execute] = ['mcp.query', 'query.execute'].map((action) =>
      entries.find((e) => e.action === action && e.result === 'ok'),
    );
    const denied = entries.filter((e) => e.result === 'denied').map((e) => e.action);
    expect(denied.sort()).toEqual(['mcp.query', 'query.execute']);
    expect(ok).toMatchObject({
      result: 'ok',
      status_code: 200,
      params: {
        client_name: CLIENT_INFO.name,
        client_version: CLIENT_INFO.version,
        sql: 'SELECT id FROM orders',
        limit: 3,
        format: 'csv',
        row_count: 3,
        truncated: true,
      },
    });
    expect(execute?.params).toEqual(ok?.params);
    expect(entries.find((e) => e.result === 'denied')).toMatchObject({
      status_code: 403,
      params: { refusal: 'table_forbidden', sql: 'SELECT * FROM salaries' },
    });
  });
});

describe('MCP results sized for a model', () => {
  let server: TestServer;
  let agent: Client;

  beforeAll(async () => {
    server = await withServer({ config: { ...RAISED, mcp: { max_result_chars: 2_000 } } });
    const user = await createUser(server.ctx, 'analyst');
    agent = (await httpClient(server.url, user.auth)).client;
  });
  afterAll(async () => {
    await agent?.close();
    await server.close();
  });

  it('cuts the text at mcp.max_result_chars with the truncation line, in every format', async () => {
    const sql = "SELECT range AS n, repeat('x', 40) AS pad FROM range(200)";
    for (const format of ['markdown', 'csv', 'json']) {
      const answer = await tool(agent, 'query', { sql, limit: 500, format });
      expect(answer.text.length, format).toBeLessThanOrEqual(2_000);
      const shown = answer.structured.row_count;
      expect(shown).toBeGreaterThan(5);
      expect(shown).toBeLessThan(200);
      expect(answer.structured).toMatchObject({ truncated: true, truncated_reason: 'chars' });
      expect(answer.structured.rows).toHaveLength(shown);
      expect(answer.text.split('\n').at(-1)).toBe(
        `(truncated: ${shown} of 200 rows; use limit, a narrower query, or da sync)`,
      );
    }
    const whole = await tool(agent, 'query', { sql: 'SELECT range AS n FROM range(20)', format: 'json' });
    expect(JSON.parse(whole.text).row_count).toBe(20);
  });
});
