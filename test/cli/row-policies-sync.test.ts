import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  crmFile,
  everyone,
  parquetRows,
  type policyAdmin,
  policyServer,
  publishWebEvents,
  REGION_FILTER,
  reading,
} from '../core/policies/policy-fixture.js';
import { type CliHome, cliHome, loginWithToken, runDa } from '../support/cli.js';
import { createUser, type TestServer, type TestUser } from '../support/server.js';

/**
 * `da sync` of a policy-bound table (12 §3, §7): the real `da` against the real server, the policy
 * and the reader's attribute set through the admin API. `da` needs no change: the synced file is
 * the slice, and a new binding replaces it.
 */
describe('da sync of a policy-bound table', () => {
  let server: TestServer;
  let api: ReturnType<typeof policyAdmin>;
  let reader: TestUser;
  let home: CliHome;

  beforeAll(async () => {
    ({ server, api } = await policyServer());
    reader = await createUser(server.ctx, 'analyst');
    await publishWebEvents(server.ctx, server.dataDir);
    for (const dataset of ['crm.*', 'web.*']) await api.grant(reader.id, dataset);
    await api.addPolicy('sales', { name: 'Regions', applies_to: everyone, row_filter: REGION_FILTER });
    await api.setAttributes(reader.id, { regions: ['EU'] });
    home = await cliHome();
    await loginWithToken(home, server.url, reader);
  });
  afterAll(async () => {
    await server.close();
    await home.cleanup();
  });

  const synced = () => join(home.localDir, 'server', 'parquet', 'sales.parquet');
  const sync = async () => {
    const result = await runDa(['sync', '--table', 'sales', '--quiet'], { env: home.env });
    expect(result.code, result.stderr).toBe(0);
  };
  const regionsInFile = async () =>
    parquetRows(
      { sales: synced() },
      'SELECT region, count(*) AS n FROM sales GROUP BY region ORDER BY region',
    );

  it('syncs only the rows of the binding, and a changed attribute replaces the file', async () => {
    await sync();
    expect(await regionsInFile()).toEqual([{ region: 'EU', n: 10 }]);
    const bytes = await readFile(synced());
    const hash = createHash('sha256').update(bytes).digest('hex');
    expect(hash).toBe((await reading(server).manifestEntry(reader, 'sales')).hash);
    expect(hash).not.toBe(
      createHash('sha256')
        .update(await readFile(crmFile(server.dataDir, 'sales')))
        .digest('hex'),
    );

    await api.setAttributes(reader.id, { regions: ['US', 'APAC'] });
    await sync();
    expect(await regionsInFile()).toEqual([
      { region: 'APAC', n: 10 },
      { region: 'US', n: 10 },
    ]);

    // No applicable policy: the synced file has no rows and the full schema.
    await api.setAttributes(reader.id, {});
    await sync();
    expect(
      await parquetRows(
        { sales: synced() },
        "SELECT count(*) AS n, (SELECT string_agg(column_name, ',') FROM (DESCRIBE sales)) AS columns FROM sales",
      ),
    ).toEqual([{ n: 0, columns: 'id,region,customer,amount' }]);
  });

  it('turns a synced multi-file table into its one-file slice when a policy binds it, and back when it goes', async () => {
    const syncEvents = async () => {
      const result = await runDa(['sync', '--table', 'events', '--quiet'], { env: home.env });
      expect(result.code, result.stderr).toBe(0);
    };
    const viewCount = async () => {
      const result = await runDa(['query', 'SELECT count(*) AS n FROM events', '--format', 'json'], {
        env: home.env,
      });
      expect(result.code, result.stderr).toBe(0);
      return JSON.parse(result.stdout);
    };
    await syncEvents();
    expect(await viewCount()).toEqual([{ n: 36 }]);

    const policy = await api.addPolicy('events', {
      name: 'Regions',
      applies_to: everyone,
      row_filter: REGION_FILTER,
    });
    await api.setAttributes(reader.id, { regions: ['EU'] });
    await syncEvents();
    expect(
      await parquetRows(
        { events: join(home.localDir, 'server', 'parquet', 'events.parquet') },
        'SELECT region, count(*) AS n FROM events GROUP BY region',
      ),
    ).toEqual([{ region: 'EU', n: 9 }]);
    expect(await viewCount()).toEqual([{ n: 9 }]);

    await api.deletePolicy(policy.id);
    await syncEvents();
    expect(await viewCount()).toEqual([{ n: 36 }]);
  });
});
