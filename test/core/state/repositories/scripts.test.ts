import { describe, expect, it } from 'vitest';
import { createUser, MINUTE, useFreshStore } from './fresh-store.js';

describe('scripts repository', () => {
  const store = useFreshStore();

  it('deploys a new script with defaults, recipients defaulting to the owner', async () => {
    const { repos, clock } = store();
    const admin = await createUser(repos, 'admin@x.io', 'admin');

    const { script, created } = await repos.scripts.deploy({
      name: 'daily.check',
      source: 'print(1)',
      owner: admin.id,
    });

    expect(created).toBe(true);
    expect(script).toMatchObject({
      name: 'daily.check',
      runtime: 'node',
      recipients: [admin.id],
      timeout_seconds: 60,
      enabled: true,
      last_output: null,
      deployed_at: clock.iso(),
    });
    expect(await repos.scripts.getByName('daily.check')).toEqual(script);
  });

  it('replaces a script deployed under the same name, keeping its id', async () => {
    const { repos, clock } = store();
    const first = await repos.scripts.deploy({ name: 's', source: 'v1', owner: null });
    clock.advance(MINUTE);

    const second = await repos.scripts.deploy({
      name: 's',
      source: 'v2',
      owner: null,
      runtime: 'python',
      recipients: ['group:g1'],
      enabled: false,
    });

    expect(second.created).toBe(false);
    expect(second.script).toMatchObject({
      id: first.script.id,
      source: 'v2',
      runtime: 'python',
      recipients: ['group:g1'],
      enabled: false,
      deployed_at: clock.iso(),
    });
    expect(await repos.scripts.list()).toHaveLength(1);
  });

  it('updates settings, records runs with their output, lists by name and deletes', async () => {
    const { repos, clock } = store();
    const { script } = await repos.scripts.deploy({ name: 'b', source: 'x', owner: null });
    await repos.scripts.deploy({ name: 'a', source: 'x', owner: null });
    clock.advance(MINUTE);

    const updated = await repos.scripts.update(script.id, {
      schedule: 'every 1h',
      recipients: ['u1'],
      enabled: false,
    });
    await repos.scripts.recordRun(script.id, {
      status: 'ok',
      output: { stdout: '{"notify":false}', stderr: '' },
      duration_ms: 42,
    });

    expect(updated).toMatchObject({
      schedule: 'every 1h',
      recipients: ['u1'],
      enabled: false,
      updated_at: clock.iso(),
    });
    expect(await repos.scripts.get(script.id)).toMatchObject({
      last_run: clock.iso(),
      last_status: 'ok',
      last_output: { stdout: '{"notify":false}', stderr: '' },
      last_duration_ms: 42,
    });
    expect((await repos.scripts.list()).map((s) => s.name)).toEqual(['a', 'b']);
    expect(await repos.scripts.delete(script.id)).toBe(true);
    expect(await repos.scripts.delete(script.id)).toBe(false);
    expect(await repos.scripts.update(script.id, { enabled: true })).toBeUndefined();
  });

  it('stamps a run at its start and keeps that time when the run is recorded', async () => {
    const { repos, clock } = store();
    const { script } = await repos.scripts.deploy({ name: 's', source: 'x', owner: null });
    const started = await repos.scripts.recordStart(script.id);
    expect(started).toBe(clock.iso());
    expect((await repos.scripts.get(script.id))?.last_run).toBe(started);
    clock.advance(MINUTE);
    await repos.scripts.recordRun(script.id, {
      status: 'timeout',
      output: null,
      duration_ms: 60_000,
      started_at: started,
    });
    expect(await repos.scripts.get(script.id)).toMatchObject({ last_run: started, last_status: 'timeout' });
  });

  it('finds the recipients this script notified since a time, and only this script', async () => {
    const { repos, clock } = store();
    const a = await createUser(repos, 'a@x.io', 'viewer');
    const b = await createUser(repos, 'b@x.io', 'viewer');
    const { script } = await repos.scripts.deploy({ name: 's', source: 'x', owner: null });
    const note = { title: 't', message: 'm', telegram_status: 'skipped', ws_status: 'skipped' } as const;
    await repos.notifications.create([
      { ...note, user_id: a.id, source_kind: 'script', source_id: script.id },
      { ...note, user_id: b.id, source_kind: 'script', source_id: 'another-script' },
      { ...note, user_id: b.id, source_kind: 'alert', source_id: script.id },
    ]);
    const before = clock.iso();
    expect(await repos.scripts.notifiedSince(script.id, [a.id, b.id], before)).toEqual(new Set([a.id]));
    expect(await repos.scripts.notifiedSince(script.id, [], before)).toEqual(new Set());
    clock.advance(MINUTE);
    expect(await repos.scripts.notifiedSince(script.id, [a.id, b.id], clock.iso())).toEqual(new Set());
  });
});
