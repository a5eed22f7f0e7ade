import { Type } from '@sinclair/typebox';
import { type AccessView, loadAccessView } from '../../core/access/access.js';
import { datasetOf } from '../../core/access/decide.js';
import { AgnesError } from '../../core/errors.js';
import type { UserSyncSetting } from '../../core/state/repositories/index.js';
import type { AgnesApp } from '../app.js';
import type { AppServices } from '../app-services.js';
import { AccessSchema, errors, Timestamp } from '../schemas.js';

const DatasetName = Type.String({ minLength: 1, maxLength: 200 });
const TableMode = Type.Union([Type.Literal('all'), Type.Literal('selected')]);

const SyncSettingView = Type.Object({
  dataset: Type.String(),
  enabled: Type.Boolean(),
  table_mode: TableMode,
  tables: Type.Array(Type.String()),
  updated_at: Timestamp,
});

const PermissionView = Type.Object({
  dataset: Type.String(),
  access: AccessSchema,
  via: Type.String({ description: 'user | group:<name> | public | admin' }),
});

function settingView(row: UserSyncSetting) {
  return {
    dataset: row.dataset,
    enabled: row.enabled,
    table_mode: row.table_mode,
    tables: row.tables,
    updated_at: row.updated_at,
  };
}

const noAccess = (dataset: string) =>
  // Named in a field of its own: `detail` never repeats input (03 §0.2).
  new AgnesError('no_access', 'you cannot read any table of this dataset', { extra: { dataset } });

/** Readable tables grouped by dataset, from the access function. */
function readableByDataset(view: AccessView): Map<string, string[]> {
  const byDataset = new Map<string, string[]>();
  for (const id of view.readableTables()) {
    const table = view.table(id);
    if (!table) continue;
    const dataset = datasetOf(table);
    byDataset.set(dataset, [...(byDataset.get(dataset) ?? []), id]);
  }
  return byDataset;
}

/**
 * A user's own settings (03 §18) and sync settings and table subscriptions (03 §4). Settings only
 * narrow what the manifest lists (04 §6.3); every dataset and table is checked with the access
 * function first and nothing changes when any entry fails.
 */
export async function settingsRoutes(app: AgnesApp, services: AppServices): Promise<void> {
  const { repos } = services.ctx;

  app.get(
    '/api/settings',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['settings'],
        summary: 'Your sync settings and the grants and rules that let you read data',
        response: {
          200: Type.Object({
            user_id: Type.String(),
            sync_settings: Type.Array(SyncSettingView),
            permissions: Type.Array(PermissionView),
          }),
          ...errors(401),
        },
      },
    },
    async (request) => {
      const principal = request.auth!.principal;
      const [view, settings, grants] = await Promise.all([
        loadAccessView(repos, principal),
        repos.syncState.listSettings(principal.id),
        repos.permissions.grantsForUser(principal.id),
      ]);
      // Stored grants as they are (`none` included), then what the rules allow without a grant.
      const permissions = grants.map((g) => ({
        dataset: g.dataset,
        access: g.access,
        via: g.via.kind === 'user' ? 'user' : `group:${g.via.group_name}`,
      }));
      for (const tableId of view.readableTables()) {
        const { reason } = view.canRead(tableId);
        if (reason === 'public' || reason === 'admin')
          permissions.push({ dataset: tableId, access: 'read', via: reason });
      }
      return { user_id: principal.id, sync_settings: settings.map(settingView), permissions };
    },
  );

  app.put(
    '/api/settings/dataset',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['settings'],
        summary: 'Turn syncing of one readable dataset on or off',
        body: Type.Object({ dataset: DatasetName, enabled: Type.Boolean() }, { additionalProperties: false }),
        response: {
          200: Type.Object({ dataset: Type.String(), enabled: Type.Boolean() }),
          ...errors(401, 403, 422),
        },
      },
    },
    async (request) => {
      const principal = request.auth!.principal;
      const { dataset, enabled } = request.body;
      request.audit = { action: 'settings.update', resource: dataset, params: { dataset, enabled } };
      const view = await loadAccessView(repos, principal);
      if (!view.readableDatasets().includes(dataset)) throw noAccess(dataset);
      const [saved] = await repos.syncState.saveSettings(principal.id, [{ dataset, enabled }]);
      return { dataset, enabled: saved?.enabled ?? enabled };
    },
  );

  app.get(
    '/api/sync/settings',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['sync'],
        summary: 'Your sync settings, enabled datasets and the readable tables of each dataset',
        response: {
          200: Type.Object({
            user_id: Type.String(),
            settings: Type.Array(SyncSettingView),
            enabled_datasets: Type.Array(Type.String()),
            datasets: Type.Array(
              Type.Object({ name: Type.String(), readable_tables: Type.Array(Type.String()) }),
            ),
          }),
          ...errors(401),
        },
      },
    },
    async (request) => {
      const principal = request.auth!.principal;
      const [view, settings] = await Promise.all([
        loadAccessView(repos, principal),
        repos.syncState.listSettings(principal.id),
      ]);
      const byDataset = readableByDataset(view);
      const disabled = new Set(settings.filter((s) => !s.enabled).map((s) => s.dataset));
      const names = [...byDataset.keys()].sort();
      return {
        user_id: principal.id,
        settings: settings.map(settingView),
        // No row means enabled (04 §6.3).
        enabled_datasets: names.filter((name) => !disabled.has(name)),
        datasets: names.map((name) => ({ name, readable_tables: byDataset.get(name) ?? [] })),
      };
    },
  );

  app.post(
    '/api/sync/settings',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['sync'],
        summary: 'Enable or disable datasets (all or nothing)',
        body: Type.Object(
          {
            datasets: Type.Record(Type.String(), Type.Boolean(), {
              minProperties: 1,
              maxProperties: 200,
              propertyNames: { minLength: 1, maxLength: 200 },
            }),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ updated: Type.Record(Type.String(), Type.Object({ enabled: Type.Boolean() })) }),
          ...errors(401, 403, 422),
        },
      },
    },
    async (request) => {
      const principal = request.auth!.principal;
      const entries = Object.entries(request.body.datasets);
      request.audit = { action: 'settings.update', params: { datasets: request.body.datasets } };
      const readable = new Set((await loadAccessView(repos, principal)).readableDatasets());
      const refused = entries.find(([dataset]) => !readable.has(dataset));
      if (refused) throw noAccess(refused[0]);
      const saved = await repos.syncState.saveSettings(
        principal.id,
        entries.map(([dataset, enabled]) => ({ dataset, enabled })),
      );
      return { updated: Object.fromEntries(saved.map((s) => [s.dataset, { enabled: s.enabled }])) };
    },
  );

  app.get(
    '/api/sync/table-subscriptions',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['sync'],
        summary: 'Your per-dataset table subscriptions',
        response: {
          200: Type.Object({ user_id: Type.String(), subscriptions: Type.Array(SyncSettingView) }),
          ...errors(401),
        },
      },
    },
    async (request) => {
      const principal = request.auth!.principal;
      const settings = await repos.syncState.listSettings(principal.id);
      return { user_id: principal.id, subscriptions: settings.map(settingView) };
    },
  );

  app.post(
    '/api/sync/table-subscriptions',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['sync'],
        summary: 'Sync all tables of a dataset, or only the selected ones',
        body: Type.Object(
          {
            dataset: DatasetName,
            table_mode: TableMode,
            tables: Type.Optional(
              Type.Array(Type.String({ minLength: 1, maxLength: 300 }), { maxItems: 1000 }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            dataset: Type.String(),
            table_mode: TableMode,
            tables: Type.Array(Type.String()),
          }),
          ...errors(401, 403, 422),
        },
      },
    },
    async (request) => {
      const principal = request.auth!.principal;
      const { dataset, table_mode } = request.body;
      const tables = [...new Set(request.body.tables ?? [])];
      request.audit = {
        action: 'settings.update',
        resource: dataset,
        params: { dataset, table_mode, tables },
      };
      const view = await loadAccessView(repos, principal);
      if (!view.readableDatasets().includes(dataset)) throw noAccess(dataset);
      const inDataset = new Set(readableByDataset(view).get(dataset) ?? []);
      const refused = tables.find((id) => !inDataset.has(id));
      if (refused !== undefined) {
        throw new AgnesError('no_access', 'a listed table is not a readable table of this dataset', {
          extra: { dataset, table: refused },
        });
      }
      const [saved] = await repos.syncState.saveSettings(principal.id, [{ dataset, table_mode, tables }]);
      return { dataset, table_mode: saved?.table_mode ?? table_mode, tables: saved?.tables ?? tables };
    },
  );
}
