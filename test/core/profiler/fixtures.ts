import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { expect } from 'vitest';
import { type ColumnProfile, type Profile, ProfileSchema } from '../../../src/contract/index.js';
import { configSchema } from '../../../src/core/config/schema.js';
import { openDuck } from '../../../src/core/duckdb/engine.js';
import { quoteLiteral } from '../../../src/core/duckdb/sql.js';
import { type ProfileInput, type ProfileOptions, profileTable } from '../../../src/core/profiler/index.js';

/** Shared by the profiler tests: Parquet fixtures written by DuckDB into a temp dir, default options. */

const section = configSchema([]).properties.profiler;
const DEFAULTS: ProfileOptions = Value.Decode(section, Value.Default(section, {}));

export const options = (overrides: Partial<ProfileOptions> = {}): ProfileOptions => ({
  ...DEFAULTS,
  ...overrides,
});

export interface Fixtures {
  /** Writes `select` to a new Parquet file and returns its absolute path. */
  parquet(select: string, name?: string): Promise<string>;
  /** Writes `select` and profiles it as table `t`; the result is checked against `ProfileSchema`. */
  profile(
    select: string,
    settings?: { options?: Partial<ProfileOptions>; input?: Partial<ProfileInput> },
  ): Promise<Profile>;
  close(): Promise<void>;
}

export function input(files: string[], overrides: Partial<ProfileInput> = {}): ProfileInput {
  return {
    tableId: 't',
    files,
    description: 'a test table',
    syncStrategy: 'full_refresh',
    primaryKey: [],
    extractedAt: '2026-01-02T03:04:05.000Z',
    sourceHash: 'abc123',
    sizeBytes: 3 * 1024 * 1024,
    ...overrides,
  };
}

/** Profiles and asserts the result is a valid profile, as every stored profile must be. */
export async function checkedProfile(
  profileInput: ProfileInput,
  profileOptions: ProfileOptions,
): Promise<Profile> {
  const profile = await profileTable(profileInput, profileOptions);
  const errors = JSON.stringify([...Value.Errors(ProfileSchema, profile)].slice(0, 3));
  expect(Value.Check(ProfileSchema, profile), errors).toBe(true);
  return profile;
}

export async function createFixtures(): Promise<Fixtures> {
  const dir = await mkdtemp(join(tmpdir(), 'agnes-profiler-test-'));
  const duck = await openDuck();
  let written = 0;
  const parquet = async (select: string, name = `t${written++}.parquet`) => {
    const path = join(dir, name);
    await duck.conn.run(`COPY (${select}) TO ${quoteLiteral(path)} (FORMAT parquet)`);
    return path;
  };
  return {
    parquet,
    async profile(select, settings = {}) {
      const file = await parquet(select);
      return checkedProfile(input([file], settings.input), options(settings.options));
    },
    async close() {
      duck.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

type Category = ColumnProfile['type_category'];

/** The named column, narrowed to its category (the test fails if it has another one). */
export function columnOf<K extends Category>(
  profile: Profile,
  name: string,
  category: K,
): Extract<ColumnProfile, { type_category: K }> {
  const column = profile.columns.find((c) => c.name === name);
  expect(column?.type_category).toBe(category);
  return column as Extract<ColumnProfile, { type_category: K }>;
}
