import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/core/config/index.js';
import { MIN_POLICY_SALT_LENGTH, resolvePolicySalt } from '../../../src/core/policies/salt.js';
import { tempDir } from '../../support/extracts.js';

let dataDir: string;
let cleanup: () => Promise<void>;

beforeEach(async () => {
  ({ path: dataDir, cleanup } = await tempDir('agnes-salt-'));
});
afterEach(async () => cleanup());

const saltFile = () => join(dataDir, 'state', 'policy-salt');
const versionOf = (salt: string) => createHash('sha256').update(salt).digest('hex').slice(0, 16);

describe('resolvePolicySalt (12 §6)', () => {
  it('generates 64 hex characters into state/policy-salt (0600) once and reads them back', async () => {
    const first = resolvePolicySalt({}, dataDir);
    expect(first.salt).toMatch(/^[0-9a-f]{64}$/);
    expect(first.saltVersion).toBe(versionOf(first.salt));
    expect((await stat(saltFile())).mode & 0o777).toBe(0o600);
    expect((await readFile(saltFile(), 'utf8')).trim()).toBe(first.salt);
    expect(resolvePolicySalt({}, dataDir).salt).toBe(first.salt);
    const other = await tempDir('agnes-salt-other-');
    try {
      expect(resolvePolicySalt({}, other.path).salt).not.toBe(first.salt);
    } finally {
      await other.cleanup();
    }
  });

  it('takes AGNES_POLICY_SALT when set, writing nothing', () => {
    const configured = 's'.repeat(MIN_POLICY_SALT_LENGTH);
    const salt = resolvePolicySalt({ AGNES_POLICY_SALT: configured }, dataDir);
    expect(salt).toMatchObject({ salt: configured, saltVersion: versionOf(configured) });
    expect(existsSync(saltFile())).toBe(false);
  });

  it('refuses a configured salt shorter than 32 characters without echoing it', () => {
    const short = 'short-policy-salt-value';
    let refused: unknown;
    try {
      resolvePolicySalt({ AGNES_POLICY_SALT: short }, dataDir);
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as ConfigError).problems).toEqual([
      'AGNES_POLICY_SALT: must be at least 32 characters long',
    ]);
    expect((refused as ConfigError).message).not.toContain(short);
    expect(existsSync(saltFile())).toBe(false);
  });

  it('replaces a stored salt that is not 64 hex characters', async () => {
    await mkdir(join(dataDir, 'state'), { recursive: true });
    await writeFile(saltFile(), 'not-a-salt\n');
    const salt = resolvePolicySalt({}, dataDir);
    expect(salt.salt).toMatch(/^[0-9a-f]{64}$/);
    expect((await readFile(saltFile(), 'utf8')).trim()).toBe(salt.salt);
    expect((await stat(saltFile())).mode & 0o777).toBe(0o600);
  });

  it('serialises as its version alone', () => {
    const salt = resolvePolicySalt({}, dataDir);
    const text = JSON.stringify({ salt });
    expect(text).not.toContain(salt.salt);
    expect(text).toContain(salt.saltVersion);
  });
});
