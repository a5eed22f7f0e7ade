import { randomUUID } from 'node:crypto';
import { mkdir, readdir, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir, pruneTempDirs } from '../../../src/core/replica/temp-dirs.js';
import { tempDir } from '../../support/extracts.js';

const HOUR = 3600_000;
const NOW = new Date('2026-03-01T12:00:00.000Z');

/** Sets an entry's modification time `ageMs` before NOW. */
async function age(path: string, ageMs: number): Promise<void> {
  const when = new Date(NOW.getTime() - ageMs);
  await utimes(path, when, when);
}

describe('per-replica temp directories (13 §3)', () => {
  let dataDir: string;
  let cleanup: () => Promise<void>;

  beforeEach(async () => {
    ({ path: dataDir, cleanup } = await tempDir('agnes-temp-dirs-'));
  });
  afterEach(async () => cleanup());

  it("makes a private directory per instance_id and wipes only that one's contents", async () => {
    const mine = randomUUID();
    const other = randomUUID();
    const otherDir = await makeTempDir(dataDir, other);
    await writeFile(join(otherDir, 'in-flight.part'), 'x');
    await mkdir(join(dataDir, 'tmp', mine));
    await writeFile(join(dataDir, 'tmp', mine, 'stale.part'), 'x');

    const dir = await makeTempDir(dataDir, mine);

    expect(dir).toBe(join(dataDir, 'tmp', mine));
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect(await readdir(dir)).toEqual([]);
    expect(await readdir(otherDir)).toEqual(['in-flight.part']);
  });

  it('removes dead replicas’ directories and loose old entries unchanged for 24 h, nothing else', async () => {
    const root = join(dataDir, 'tmp');
    const live = randomUUID();
    const deadOld = randomUUID();
    const deadRecent = randomUUID();
    for (const id of [live, deadOld, deadRecent]) {
      await mkdir(join(root, id, 'uploads'), { recursive: true });
      await writeFile(join(root, id, 'uploads', 'a.part'), 'x');
    }
    await mkdir(join(root, 'extract-shop'));
    await mkdir(join(root, 'query', 'abc'), { recursive: true });
    await writeFile(join(root, 'loose-recent.part'), 'x');
    await age(join(root, live), 30 * HOUR);
    await age(join(root, deadOld), 25 * HOUR);
    await age(join(root, deadRecent), 23 * HOUR);
    await age(join(root, 'extract-shop'), 100 * HOUR);
    await age(join(root, 'query'), 48 * HOUR);
    await age(join(root, 'loose-recent.part'), HOUR);

    const removed = await pruneTempDirs({ dataDir, live: new Set([live]), now: NOW, maxAgeMs: 24 * HOUR });

    expect(removed).toBe(2);
    expect((await readdir(root)).sort()).toEqual(
      [live, deadRecent, 'extract-shop', 'loose-recent.part'].sort(),
    );
    expect(await readdir(join(root, live, 'uploads'))).toEqual(['a.part']);
  });

  it('has nothing to prune before any temp file was written', async () => {
    expect(await pruneTempDirs({ dataDir, live: new Set(), now: NOW, maxAgeMs: 24 * HOUR })).toBe(0);
  });
});
