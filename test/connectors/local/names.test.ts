import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { planInputs } from '../../../src/connectors/local/inputs.js';
import { shardFileName } from '../../../src/connectors/local/names.js';
import { isValidShardName, isValidViewName, normaliseTableName } from '../../../src/core/ids.js';
import { tempDir } from '../../support/extracts.js';

describe('normaliseTableName (07 §1)', () => {
  it.each([
    ['orders', 'orders'],
    ['Orders', 'orders'],
    ['ORDER_ITEMS', 'order_items'],
    ['web sessions', 'web_sessions'],
    ['web  -- sessions', 'web_sessions'],
    ['Příliš žluťoučký kůň', 'prilis_zlutoucky_kun'],
    ['Café Münster', 'cafe_munster'],
    ['straße', 'stra_e'],
    ['2024 sales', 't_2024_sales'],
    ['2024-01', 't_2024_01'],
    ['007', 't_007'],
    ['  padded  ', 'padded'],
    ['__private__', 'private'],
    ['a.b.c', 'a_b_c'],
    ['report (final) v2', 'report_final_v2'],
  ])('%j → %j', (stem, expected) => {
    expect(normaliseTableName(stem)).toBe(expected);
    expect(isValidViewName(expected)).toBe(true);
  });

  it.each(['', '___', '---', '数据', '😀'])('gives no name for %j', (stem) => {
    expect(normaliseTableName(stem)).toBeNull();
  });

  it('cuts names to 64 characters without a trailing underscore', () => {
    const long = normaliseTableName('x'.repeat(100));
    expect(long).toBe('x'.repeat(64));
    const digits = normaliseTableName(`1${'y'.repeat(100)}`);
    expect(digits).toHaveLength(64);
    expect(digits?.startsWith('t_1')).toBe(true);
    const boundary = normaliseTableName(`${'z'.repeat(63)} tail`);
    expect(boundary).toBe('z'.repeat(63));
    for (const name of [long, digits, boundary]) expect(isValidViewName(name ?? '')).toBe(true);
  });

  it('names shards the same way, with a .parquet suffix', () => {
    expect(shardFileName('2024-01')).toBe('t_2024_01.parquet');
    expect(shardFileName('Part A')).toBe('part_a.parquet');
    expect(shardFileName('???')).toBeNull();
    expect(isValidShardName(shardFileName('Jan 2024') ?? '')).toBe(true);
  });
});

describe('planInputs', () => {
  let dir: string;
  let cleanup: () => Promise<void>;

  beforeEach(async () => {
    ({ path: dir, cleanup } = await tempDir('agnes-local-plan-'));
  });

  afterEach(async () => {
    await cleanup();
  });

  const touch = (rel: string, content = 'id\n1\n') => writeFile(join(dir, rel), content);

  it('maps each supported input to a table by its normalised stem', async () => {
    for (const name of [
      'orders.csv',
      'People.TSV',
      'events.csv.gz',
      'facts.parquet',
      'doc.json',
      'lines.jsonl',
      'more lines.ndjson',
      'notes.txt',
      'archive.zip',
      'README',
      '.csv',
    ])
      await touch(name);
    const plan = await planInputs(dir);
    expect(plan.collisions).toEqual([]);
    expect(
      plan.tables.map((t) => [t.name, t.layout, t.inputs.map((i) => [i.rel, i.kind, i.output])]),
    ).toEqual([
      ['doc', 'single', [['doc.json', 'json', 'doc.parquet']]],
      ['events', 'single', [['events.csv.gz', 'csv', 'events.parquet']]],
      ['facts', 'single', [['facts.parquet', 'parquet', 'facts.parquet']]],
      ['lines', 'single', [['lines.jsonl', 'ndjson', 'lines.parquet']]],
      ['more_lines', 'single', [['more lines.ndjson', 'ndjson', 'more_lines.parquet']]],
      ['orders', 'single', [['orders.csv', 'csv', 'orders.parquet']]],
      ['people', 'single', [['People.TSV', 'tsv', 'people.parquet']]],
    ]);
  });

  it('makes a subdirectory a multi-file table with one shard per input', async () => {
    await mkdir(join(dir, 'Web Events'));
    await touch('Web Events/2024-01.csv');
    await touch('Web Events/2024-02.csv.gz');
    await touch('Web Events/notes.txt');
    await touch('Web Events/.hidden.csv');
    await touch('Web Events/_draft.csv');
    await mkdir(join(dir, 'Web Events', 'nested'));
    await writeFile(join(dir, 'Web Events', 'nested', 'deep.csv'), 'id\n1\n');
    await mkdir(join(dir, 'empty'));
    const plan = await planInputs(dir);
    expect(plan.tables).toEqual([
      {
        name: 'web_events',
        layout: 'multi',
        inputs: [
          {
            rel: 'Web Events/2024-01.csv',
            abs: join(dir, 'Web Events', '2024-01.csv'),
            kind: 'csv',
            output: 'web_events/t_2024_01.parquet',
          },
          {
            rel: 'Web Events/2024-02.csv.gz',
            abs: join(dir, 'Web Events', '2024-02.csv.gz'),
            kind: 'csv',
            output: 'web_events/t_2024_02.parquet',
          },
        ],
      },
    ]);
  });

  it('ignores hidden and underscore files and directories, and symlinks', async () => {
    await touch('kept.csv');
    await touch('.hidden.csv');
    await touch('_manifest.json', '{}');
    await mkdir(join(dir, '_staging'));
    await touch('_staging/a.csv');
    await mkdir(join(dir, '.git'));
    await touch('.git/b.csv');
    await symlink(join(dir, 'kept.csv'), join(dir, 'linked.csv'));
    const outside = await tempDir('agnes-local-outside-');
    try {
      await writeFile(join(outside.path, 'secret.csv'), 'id\n1\n');
      await symlink(outside.path, join(dir, 'linked_dir'));
      const plan = await planInputs(dir);
      expect(plan.tables.map((t) => t.name)).toEqual(['kept']);
      expect(plan.collisions).toEqual([]);
    } finally {
      await outside.cleanup();
    }
  });

  it('fails every input of a clashing name together', async () => {
    await touch('Orders.csv');
    await touch('orders.parquet');
    await touch('Web Events.csv');
    await mkdir(join(dir, 'web_events'));
    await touch('web_events/a.csv');
    await touch('unique.csv');
    const plan = await planInputs(dir);
    expect(plan.tables.map((t) => t.name)).toEqual(['unique']);
    expect(plan.collisions).toEqual([
      { name: 'orders', inputs: ['Orders.csv', 'orders.parquet'] },
      { name: 'web_events', inputs: ['Web Events.csv', 'web_events/a.csv'] },
    ]);
  });

  it('fails a multi-file table whose inputs clash on a shard name instead of dropping one', async () => {
    await mkdir(join(dir, 'events'));
    await touch('events/Jan 2024.csv');
    await touch('events/jan_2024.csv.gz');
    await touch('events/feb_2024.csv');
    const plan = await planInputs(dir);
    expect(plan.tables).toEqual([]);
    expect(plan.collisions).toEqual([
      { name: 'events', inputs: ['events/Jan 2024.csv', 'events/feb_2024.csv', 'events/jan_2024.csv.gz'] },
    ]);
  });
});
