import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeJira, issueEvent, sendWebhook, user } from '../fakes/jira.js';
import { cliHome, loginWithToken, runDa } from '../support/cli.js';
import { eventually, fastJira, jiraSection, WEBHOOK_SECRET } from '../support/jira.js';
import { call, createUser, type TestServer, type TestUser, withServer } from '../support/server.js';

/**
 * Issue 13 end to end: signed webhooks from the fake Jira Cloud into the six tables, queryable
 * through the guard, listed by discovery, registered, in the catalog with profiles, and synced by
 * an analyst with a grant through the real `da` (built with `npm run build`).
 */

const TABLES = ['attachments', 'changelog', 'comments', 'issuelinks', 'issues', 'remote_links'];

describe('jira source through the app', () => {
  let fake: FakeJira;
  let server: TestServer;
  let admin: TestUser;

  beforeAll(async () => {
    fake = await FakeJira.start();
    server = await withServer({
      config: { jira: jiraSection(fake) },
      connectors: [fastJira],
      startServices: true,
    });
    admin = await createUser(server.ctx, 'admin');
    for (let i = 1; i <= 5; i++) {
      fake.addIssue({
        key: `SUP-${i}`,
        created: `2024-0${1 + (i % 3)}-15T10:00:00.000+0000`,
        comments: i,
        changes: 2,
        attachments: [
          { id: String(900 + i), filename: `f${i}.txt`, author: user('Bob'), content: `${fake.url}/x/${i}` },
        ],
        issuelinks: [
          { id: String(500 + i), type: { name: 'Relates' }, outwardIssue: { key: 'SUP-1', fields: {} } },
        ],
      });
      const answer = await sendWebhook(
        server.url,
        issueEvent('jira:issue_created', fake.issues.get(`SUP-${i}`)!),
        {
          secret: WEBHOOK_SECRET,
        },
      );
      expect(answer.status).toBe(200);
    }
  });
  afterAll(async () => {
    await server?.close();
    await fake?.close();
  });

  const query = async (sql: string, auth = admin.auth) =>
    call(server, 'POST', '/api/query', { auth, body: { sql } });

  it('turns the webhooks into the six tables, queryable through /api/query', async () => {
    await eventually(
      async () => {
        const answer = await query('SELECT count(*) AS n FROM issues');
        return answer.status === 200 && answer.body.rows[0]?.[0] === 5;
      },
      20_000,
      'five issues in /api/query',
    );
    const comments = await query(
      'SELECT i.issue_key, count(*) AS n FROM issues i JOIN comments c USING (issue_key) GROUP BY 1 ORDER BY 1',
    );
    expect(comments.body.rows).toEqual([
      ['SUP-1', 1],
      ['SUP-2', 2],
      ['SUP-3', 3],
      ['SUP-4', 4],
      ['SUP-5', 5],
    ]);
  });

  it('offers the six fixed tables to discovery; registered, they are in the catalog with profiles', async () => {
    const discovered = await call(server, 'GET', '/api/admin/discover-tables?source=jira', {
      auth: admin.auth,
    });
    expect(discovered.status).toBe(200);
    expect(discovered.body.tables.map((t: { name: string }) => t.name).sort()).toEqual(TABLES);
    const issues = discovered.body.tables.find((t: { name: string }) => t.name === 'issues');
    expect(issues).toMatchObject({ source: 'jira', rows: 5, primary_key: ['issue_key'], registered: false });
    for (const name of TABLES) {
      const registered = await call(server, 'POST', '/api/admin/register-table', {
        auth: admin.auth,
        body: { name, source: 'jira', source_table: name, description: `Jira ${name}` },
      });
      expect(registered.status, registered.text).toBe(201);
    }
    const catalog = await call(server, 'GET', '/api/catalog/tables', { auth: admin.auth });
    expect(catalog.status).toBe(200);
    const listed = JSON.stringify(catalog.body);
    for (const name of TABLES) expect(listed).toContain(`"${name}"`);
    for (const name of TABLES)
      await eventually(
        async () =>
          (await call(server, 'GET', `/api/catalog/profile/${name}`, { auth: admin.auth })).status === 200,
        20_000,
        `a profile of ${name}`,
      );
    const profile = await call(server, 'GET', '/api/catalog/profile/issues', { auth: admin.auth });
    expect(JSON.stringify(profile.body)).toContain('issue_key');
  });

  it('is synced to a granted analyst by da sync and queried locally', async () => {
    const analyst = await createUser(server.ctx, 'analyst');
    for (const name of TABLES)
      await server.ctx.repos.permissions.grantUser(analyst.id, {
        dataset: name,
        access: 'read',
        granted_by: admin.id,
      });
    const home = await cliHome();
    try {
      await loginWithToken(home, server.url, analyst);
      const sync = await runDa(['sync', '--json'], { env: home.env });
      expect(sync.code, sync.stderr).toBe(0);
      const downloaded = JSON.parse(sync.stdout).downloaded as { table: string; files: number }[];
      expect(downloaded.map((d) => d.table).sort()).toEqual(TABLES);
      // Monthly shards: the issues fall into three months.
      expect(downloaded.find((d) => d.table === 'issues')?.files).toBe(3);
      const local = await runDa(
        [
          'query',
          '--format',
          'json',
          'SELECT count(DISTINCT i.issue_key) AS issues, count(*) AS comments FROM issues i JOIN comments c USING (issue_key)',
        ],
        { env: home.env },
      );
      expect(local.code, local.stderr).toBe(0);
      expect(JSON.parse(local.stdout)).toEqual([{ issues: 5, comments: 15 }]);
    } finally {
      await home.cleanup();
    }
  });
});
