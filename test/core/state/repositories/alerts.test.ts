import { describe, expect, it } from 'vitest';
import type { NewAlert } from '../../../../src/core/state/repositories/index.js';
import { createUser, MINUTE, useFreshStore } from './fresh-store.js';

function alert(ownerId: string, overrides: Partial<NewAlert> = {}): NewAlert {
  return {
    owner_id: ownerId,
    name: 'Orders dropped',
    sql: 'select count(*) from orders',
    condition: { type: 'first_value', op: '<', threshold: 10, column: 'n' },
    message_template: '{{alert_name}}: {{value}}',
    schedule: 'every 1h',
    channels: ['telegram', 'websocket'],
    ...overrides,
  };
}

describe('alerts repository', () => {
  const store = useFreshStore();

  it('creates alerts with JSON and boolean columns round-tripped', async () => {
    const { repos, clock } = store();
    const owner = await createUser(repos, 'a@x.io');

    const created = await repos.alerts.create(alert(owner.id));

    expect(created).toMatchObject({
      condition: { type: 'first_value', op: '<', threshold: 10, column: 'n' },
      channels: ['telegram', 'websocket'],
      cooldown_minutes: 60,
      enabled: true,
      last_run_at: null,
      created_at: clock.iso(),
    });
    expect(await repos.alerts.get(created.id)).toEqual(created);
    await expect(repos.alerts.create(alert('nobody'))).rejects.toMatchObject({ code: 'not_found' });
  });

  it('treats another owner’s alert as missing', async () => {
    const { repos } = store();
    const owner = await createUser(repos, 'a@x.io');
    const stranger = await createUser(repos, 'b@x.io');
    const created = await repos.alerts.create(alert(owner.id));

    expect(await repos.alerts.getOwned(created.id, stranger.id)).toBeUndefined();
    expect(await repos.alerts.update(created.id, stranger.id, { enabled: false })).toBeUndefined();
    expect(await repos.alerts.delete(created.id, stranger.id)).toBe(false);
    expect(await repos.alerts.getOwned(created.id, owner.id)).toMatchObject({ enabled: true });
  });

  it('updates the owner’s alert, lists per owner or all, and counts', async () => {
    const { repos, clock } = store();
    const owner = await createUser(repos, 'a@x.io');
    const other = await createUser(repos, 'b@x.io');
    const created = await repos.alerts.create(alert(owner.id));
    await repos.alerts.create(alert(other.id, { enabled: false }));
    clock.advance(MINUTE);

    const updated = await repos.alerts.update(created.id, owner.id, {
      condition: { type: 'row_count', op: '>', threshold: 0 },
      channels: ['websocket'],
      cooldown_minutes: 5,
    });

    expect(updated).toMatchObject({
      condition: { type: 'row_count', op: '>', threshold: 0 },
      channels: ['websocket'],
      cooldown_minutes: 5,
      name: 'Orders dropped',
      updated_at: clock.iso(),
    });
    expect((await repos.alerts.list(owner.id)).map((a) => a.id)).toEqual([created.id]);
    expect(await repos.alerts.list()).toHaveLength(2);
    expect((await repos.alerts.listEnabled()).map((a) => a.id)).toEqual([created.id]);
    expect(await repos.alerts.countByOwner(owner.id)).toBe(1);
  });

  it('records every run but moves last_fired_at only when the alert fired', async () => {
    const { repos, clock } = store();
    const owner = await createUser(repos, 'a@x.io');
    const created = await repos.alerts.create(alert(owner.id));
    const firedAt = clock.iso();

    await repos.alerts.recordRun(created.id, { status: 'ok', error: null, fired: true });
    clock.advance(MINUTE);
    await repos.alerts.recordRun(created.id, { status: 'error', error: 'table_forbidden', fired: false });

    expect(await repos.alerts.get(created.id)).toMatchObject({
      last_run_at: clock.iso(),
      last_status: 'error',
      last_error: 'table_forbidden',
      last_fired_at: firedAt,
    });
  });

  it('counts consecutive access errors, resets them on any other run, and disables', async () => {
    const { repos } = store();
    const owner = await createUser(repos, 'a@x.io');
    const created = await repos.alerts.create(alert(owner.id));
    const accessError = { status: 'error', error: 'table_forbidden', fired: false, accessError: true };

    await repos.alerts.recordRun(created.id, accessError);
    expect((await repos.alerts.recordRun(created.id, accessError))?.consecutive_errors).toBe(2);
    expect(
      (await repos.alerts.recordRun(created.id, { status: 'error', error: 'timeout', fired: false }))
        ?.consecutive_errors,
    ).toBe(0);
    await repos.alerts.disable(created.id);
    expect(await repos.alerts.get(created.id)).toMatchObject({ enabled: false, consecutive_errors: 0 });
  });

  it('deletes the owner’s alert', async () => {
    const { repos } = store();
    const owner = await createUser(repos, 'a@x.io');
    const created = await repos.alerts.create(alert(owner.id));

    expect(await repos.alerts.delete(created.id, owner.id)).toBe(true);
    expect(await repos.alerts.get(created.id)).toBeUndefined();
  });
});
