import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GENERATED_MARKER } from '../../src/core/catalog/generated-docs.js';
import { openStateDb, type StateDb } from '../../src/core/state/db.js';
import { migrateToLatest } from '../../src/core/state/migrate.js';
import { createRepositories } from '../../src/core/state/repositories/index.js';
import { FakeOpenMetadata } from '../fakes/openmetadata.js';
import { tempDir } from '../support/extracts.js';
import { type RunResult, runAgnes } from '../support/processes.js';

/** `agnes catalog-export` (07 §6) through the compiled executable against a fake OpenMetadata. */
describe('agnes catalog-export', () => {
  let fake: FakeOpenMetadata;
  let dir: string;
  let cleanup: () => Promise<void>;
  let db: StateDb;

  beforeAll(async () => {
    fake = await FakeOpenMetadata.start();
    fake.addMetric({ name: 'revenue', tags: [{ tagFQN: 'MetricCategory.Sales' }], granularity: 'MONTH' });
    fake.addTable('warehouse.shop.public.orders', { description: '<p>All orders</p>' });
  });
  afterAll(async () => fake.close());
  beforeEach(async () => {
    ({ path: dir, cleanup } = await tempDir('agnes-om-cli-'));
    db = openStateDb(join(dir, 'data'));
    await migrateToLatest(db);
    const repos = createRepositories(db);
    await repos.registry.register({
      id: 'orders',
      name: 'orders',
      source: 'shop',
      source_type: 'local',
      bucket: 'public',
    });
    await repos.registry.register({
      id: 'gone',
      name: 'gone',
      source: 'shop',
      source_type: 'local',
      bucket: 'broken',
    });
  });
  afterEach(async () => {
    fake.faults.length = 0;
    await db.destroy();
    await cleanup();
  });

  function agnes(args: string[], env: Record<string, string> = {}): Promise<RunResult> {
    return runAgnes(['catalog-export', ...args], {
      cwd: dir,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        DATA_DIR: join(dir, 'data'),
        LOG_LEVEL: 'warn',
        ...env,
      },
      input: '',
      killAfterMs: 20_000,
    });
  }
  const configured = () => ({
    OPENMETADATA_URL: fake.url,
    OPENMETADATA_TOKEN: fake.token,
    AGNES_CONFIG: join(dir, 'instance.yaml'),
  });

  it('refuses to run without OpenMetadata configured', async () => {
    const result = await agnes([]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('OpenMetadata is not configured');
  });

  it('exports metrics and tables and prints a report without the token', async () => {
    await writeFile(
      join(dir, 'instance.yaml'),
      'openmetadata:\n  fqn_template: "warehouse.shop.{bucket}.{id}"\n',
    );
    const result = await agnes(['--json'], configured());
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({ metrics: 1, tables: 1, failed: 0, problems: [] });
    expect(result.stdout + result.stderr).not.toContain(fake.token);
    const metric = await readFile(join(dir, 'data', 'docs', 'metrics', 'sales', 'revenue.yml'), 'utf8');
    expect(metric.split('\n')[0]).toBe(GENERATED_MARKER);
    expect(metric).toContain('grain: month');

    fake.inject({ match: /broken\.gone/, status: 500, times: Number.POSITIVE_INFINITY });
    const partial = await agnes([], configured());
    expect(partial.code).toBe(2);
    expect(partial.stdout).toMatch(/table gone: .*HTTP 500/);
  });
});
