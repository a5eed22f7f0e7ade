import { existsSync } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, resolveJwtSecrets } from '../../../src/core/config/index.js';
import type { Env } from '../../../src/core/config/resolve-env.js';
import { MIN_JWT_SECRET_LENGTH } from '../../../src/core/config/secrets.js';
import { tempDir } from '../../support/extracts.js';

let dataDir: string;
let cleanup: () => Promise<void>;

beforeEach(async () => {
  ({ path: dataDir, cleanup } = await tempDir('agnes-secrets-'));
});

afterEach(async () => {
  await cleanup();
});

const REQUIRED = 'JWT_SECRET_KEY: must be set and at least 32 characters long';
const secretFile = () => join(dataDir, 'state', 'jwt-secret');

function refusal(env: Env, demo = false): string[] {
  try {
    resolveJwtSecrets(env, { dataDir, demo });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('the secrets were accepted');
}

describe('resolveJwtSecrets', () => {
  it('requires JWT_SECRET_KEY, naming it when missing, empty or short', () => {
    expect(MIN_JWT_SECRET_LENGTH).toBe(32);
    expect(refusal({})).toEqual([REQUIRED]);
    expect(refusal({ JWT_SECRET_KEY: '' })).toEqual([REQUIRED]);
    expect(refusal({ JWT_SECRET_KEY: 'k'.repeat(31) })).toEqual([REQUIRED]);
    expect(existsSync(secretFile())).toBe(false);
  });

  it('never echoes a short secret', () => {
    const short = 'short-but-secret-value';
    const problems = refusal({ JWT_SECRET_KEY: short });
    expect(problems.join('\n')).not.toContain(short);
  });

  it('accepts a secret of at least 32 characters', () => {
    const key = 'k'.repeat(32);
    expect(resolveJwtSecrets({ JWT_SECRET_KEY: key }, { dataDir })).toEqual({ current: key, previous: null });
  });

  it('accepts JWT_SECRET_KEY_PREVIOUS for rotation and refuses a short one', () => {
    const current = 'c'.repeat(40);
    const previous = 'p'.repeat(32);
    expect(
      resolveJwtSecrets({ JWT_SECRET_KEY: current, JWT_SECRET_KEY_PREVIOUS: previous }, { dataDir }),
    ).toEqual({ current, previous });
    expect(refusal({ JWT_SECRET_KEY: current, JWT_SECRET_KEY_PREVIOUS: 'p'.repeat(31) })).toEqual([
      'JWT_SECRET_KEY_PREVIOUS: must be at least 32 characters long',
    ]);
    expect(
      resolveJwtSecrets({ JWT_SECRET_KEY: current, JWT_SECRET_KEY_PREVIOUS: '' }, { dataDir }).previous,
    ).toBe(null);
  });

  it('generates state/jwt-secret (0600) in demo mode and reuses it on the next start', async () => {
    const first = resolveJwtSecrets({}, { dataDir, demo: true });
    expect(first.current.length).toBeGreaterThanOrEqual(MIN_JWT_SECRET_LENGTH);
    expect(first.previous).toBeNull();
    const info = await stat(secretFile());
    expect(info.mode & 0o777).toBe(0o600);
    expect((await readFile(secretFile(), 'utf8')).trim()).toBe(first.current);

    const second = resolveJwtSecrets({}, { dataDir, demo: true });
    expect(second.current).toBe(first.current);

    // Another data directory gets its own secret.
    const other = await tempDir('agnes-secrets-other-');
    try {
      expect(resolveJwtSecrets({}, { dataDir: other.path, demo: true }).current).not.toBe(first.current);
    } finally {
      await other.cleanup();
    }
  });

  it('prefers a configured secret over generating one in demo mode', () => {
    const key = 'e'.repeat(48);
    expect(resolveJwtSecrets({ JWT_SECRET_KEY: key }, { dataDir, demo: true }).current).toBe(key);
    expect(existsSync(secretFile())).toBe(false);
    expect(refusal({ JWT_SECRET_KEY: 'short' }, true)).toEqual([REQUIRED]);
  });

  it('replaces a stored demo secret that is too short', async () => {
    await mkdir(join(dataDir, 'state'), { recursive: true });
    await writeFile(secretFile(), 'tiny\n');
    const secrets = resolveJwtSecrets({}, { dataDir, demo: true });
    expect(secrets.current).not.toBe('tiny');
    expect(secrets.current.length).toBeGreaterThanOrEqual(MIN_JWT_SECRET_LENGTH);
    expect((await readFile(secretFile(), 'utf8')).trim()).toBe(secrets.current);
  });
});
