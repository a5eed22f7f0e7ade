import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CliHome,
  type CliServer,
  cliHome,
  daJson,
  loginWithToken,
  runDa,
  withCliServer,
} from '../support/cli.js';
import { call, createUser } from '../support/server.js';

describe('da memory', { timeout: 180_000 }, () => {
  let fixture: CliServer;
  let analyst: CliHome;
  let viewer: CliHome;
  const json = daJson;

  beforeAll(async () => {
    fixture = await withCliServer();
    analyst = await cliHome();
    viewer = await cliHome();
    await loginWithToken(analyst, fixture.server.url, fixture.analyst);
    await loginWithToken(viewer, fixture.server.url, await createUser(fixture.server.ctx, 'viewer'));
  });
  afterAll(async () => {
    await fixture.close();
    await analyst.cleanup();
    await viewer.cleanup();
  });

  it('proposes, lists, searches, shows and votes', async () => {
    const notes = join(analyst.root, 'note.md');
    await writeFile(notes, 'Revenue is booked net of VAT.\nRefunds are negative rows.');
    const created = await json(
      analyst,
      'memory',
      'propose',
      '--title',
      'Revenue excludes VAT',
      '--category',
      'business_logic',
      '--file',
      notes,
      '--tags',
      'revenue, vat',
    );
    expect(created).toEqual({ id: expect.any(String), status: 'pending' });
    const text = await runDa(['memory', 'list', '--mine'], { env: analyst.env });
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('Revenue excludes VAT');
    expect(text.stdout).toContain('pending');

    // A viewer sees nothing pending, and cannot propose (exit 4).
    expect((await json(viewer, 'memory', 'list')).items).toEqual([]);
    const refused = await runDa(
      ['memory', 'propose', '--title', 'x', '--category', 'workflow', '--content', 'y'],
      { env: viewer.env },
    );
    expect(refused.code).toBe(4);

    const km = await createUser(fixture.server.ctx, 'km_admin');
    const approved = await call(fixture.server, 'POST', `/api/memory/admin/approve?item_id=${created.id}`, {
      auth: km.auth,
    });
    expect(approved.status).toBe(200);

    const found = await json(viewer, 'memory', 'search', 'net of vat');
    expect(found.items.map((i: { id: string }) => i.id)).toEqual([created.id]);
    const shown = await runDa(['memory', 'show', created.id], { env: viewer.env });
    expect(shown.stdout).toContain('Refunds are negative rows.');
    expect(shown.stdout).toContain('tags: revenue, vat');
    expect(await json(viewer, 'memory', 'vote', created.id, 'up')).toEqual({
      upvotes: 1,
      downvotes: 0,
      score: 1,
      my_vote: 1,
    });
    const cleared = await runDa(['memory', 'vote', created.id, 'clear'], { env: viewer.env });
    expect(cleared.stdout.trim()).toBe('Score 0 (0 up, 0 down)');
  });

  it('reports a duplicate, an unknown item and bad usage with their exit codes', async () => {
    const propose = (title: string) =>
      runDa(['memory', 'propose', '--title', title, '--category', 'workflow', '--content', `${title} body`], {
        env: analyst.env,
      });
    expect((await propose('Deploy on Tuesdays')).code).toBe(0);
    const duplicate = await propose('  deploy ON tuesdays ');
    expect(duplicate.code).toBe(1);
    expect(duplicate.stderr).toMatch(/^error: .*already exists: [0-9a-f-]{36}/);
    const missing = await runDa(['memory', 'show', 'no-such-item'], { env: analyst.env });
    expect(missing.code).toBe(5);
    const both = await runDa(
      ['memory', 'propose', '--title', 't', '--category', 'workflow', '--content', 'a', '--file', 'b'],
      { env: analyst.env },
    );
    expect(both.code).toBe(2);
    expect((await runDa(['memory', 'vote', 'x', 'sideways'], { env: analyst.env })).code).toBe(2);
  });
});
