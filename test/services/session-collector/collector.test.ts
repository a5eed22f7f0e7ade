import { randomUUID } from 'node:crypto';
import {
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runSessionCollector } from '../../../src/services/session-collector/collector.js';

let dataDir: string;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'agnes-sessions-'));
});

afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const NOW = new Date('2026-06-15T12:00:00Z');
const collect = (over: { maxBytes?: number; now?: Date } = {}) =>
  runSessionCollector({
    dataDir,
    maxBytes: over.maxBytes ?? 1024 * 1024 * 5,
    retentionDays: 180,
    log: pino({ level: 'silent' }),
    now: () => over.now ?? NOW,
  });

const incoming = (user: string) => join(dataDir, 'uploads', user, 'incoming', 'sessions');
const transcript = (timestamp: string, ...texts: string[]) =>
  `${texts.map((text, i) => JSON.stringify({ type: 'user', timestamp, message: { role: 'user', content: text }, i })).join('\n')}\n`;

async function upload(user: string, name: string, content: string | Buffer): Promise<string> {
  await mkdir(incoming(user), { recursive: true });
  const path = join(incoming(user), name);
  await writeFile(path, content);
  return path;
}

const read = (user: string, ...parts: string[]) => readFile(join(dataDir, 'uploads', user, ...parts), 'utf8');
const exists = (path: string) =>
  lstat(path).then(
    () => true,
    () => false,
  );

describe('session collector', () => {
  it('files a valid transcript by the month of its first timestamp, with an atomic rename', async () => {
    const user = randomUUID();
    const content = transcript('2026-03-04T10:00:00Z', 'hello');
    const path = await upload(user, 'abc.jsonl', content);
    const inode = (await stat(path)).ino;

    const counts = await collect();

    expect(counts).toMatchObject({ filed: 1, rejected: 0, errors: 0 });
    expect(await read(user, 'sessions', '2026', '03', 'abc.jsonl')).toBe(content);
    expect((await stat(join(dataDir, 'uploads', user, 'sessions', '2026', '03', 'abc.jsonl'))).ino).toBe(
      inode,
    );
    expect(await readdir(incoming(user))).toEqual([]);
  });

  it('files a transcript without a timestamp by its arrival month', async () => {
    const user = randomUUID();
    const path = await upload(user, 'plain.jsonl', '{"type":"user"}\n');
    await utimes(path, new Date('2026-05-20T00:00:00Z'), new Date('2026-05-20T00:00:00Z'));
    await collect();
    expect(await exists(join(dataDir, 'uploads', user, 'sessions', '2026', '05', 'plain.jsonl'))).toBe(true);
  });

  it('rejects invalid files into rejected/ with a reason, keeping their names', async () => {
    const user = randomUUID();
    await upload(user, 'notjson.jsonl', '{"ok":1}\nthis is not json\n');
    await upload(user, 'latin1.jsonl', Buffer.from([0x7b, 0x22, 0xe9, 0x22, 0x7d, 0x0a]));
    await upload(user, 'huge.jsonl', `${JSON.stringify({ big: 'x'.repeat(1024 * 1024) })}\n`);
    await upload(user, 'notes.txt', 'hello');

    const counts = await collect({ maxBytes: 2 * 1024 * 1024 });
    expect(counts).toMatchObject({ rejected: 4, filed: 0 });
    expect(await read(user, 'rejected', 'notjson.jsonl.reason')).toMatch(/line 2 is not JSON/);
    expect(await read(user, 'rejected', 'latin1.jsonl.reason')).toMatch(/UTF-8/);
    expect(await read(user, 'rejected', 'huge.jsonl.reason')).toMatch(/longer than 1 MiB/);
    expect(await read(user, 'rejected', 'notes.txt.reason')).toMatch(/session name/);
    expect(await read(user, 'rejected', 'notjson.jsonl')).toContain('this is not json');

    await upload(user, 'too-big.jsonl', transcript('2026-03-04T10:00:00Z', 'y'.repeat(3000)));
    expect((await collect({ maxBytes: 1000 })).rejected).toBe(1);
    expect(await read(user, 'rejected', 'too-big.jsonl.reason')).toMatch(/larger than 1000 bytes/);
  });

  it('replaces a grown transcript in place, in the month of its first filing', async () => {
    const user = randomUUID();
    await upload(user, 's.jsonl', transcript('2026-03-31T23:00:00Z', 'one'));
    await collect();
    const grown = transcript('2026-03-31T23:00:00Z', 'one', 'two');
    await upload(user, 's.jsonl', grown);
    const counts = await collect();
    expect(counts).toMatchObject({ replaced: 1, filed: 0 });
    expect(await read(user, 'sessions', '2026', '03', 's.jsonl')).toBe(grown);
  });

  it('drops an identical re-upload from incoming', async () => {
    const user = randomUUID();
    const content = transcript('2026-03-04T10:00:00Z', 'same');
    await upload(user, 'dup.jsonl', content);
    await collect();
    await upload(user, 'dup.jsonl', content);
    expect(await collect()).toMatchObject({ duplicates: 1, filed: 0, replaced: 0 });
    expect(await readdir(incoming(user))).toEqual([]);
  });

  it('removes symlinks and directories planted in incoming without following them', async () => {
    const user = randomUUID();
    const secret = join(dataDir, 'secret.jsonl');
    await writeFile(secret, transcript('2026-03-04T10:00:00Z', 'not yours'));
    await mkdir(incoming(user), { recursive: true });
    await symlink(secret, join(incoming(user), 'link.jsonl'));
    await mkdir(join(incoming(user), 'dir.jsonl'));
    await writeFile(join(incoming(user), 'dir.jsonl', 'inner.jsonl'), '{}\n');

    const counts = await collect();

    expect(counts).toMatchObject({ removed: 2, filed: 0 });
    expect(await readdir(incoming(user))).toEqual([]);
    expect(await readFile(secret, 'utf8')).toContain('not yours');
    expect(await exists(join(dataDir, 'uploads', user, 'sessions'))).toBe(false);
  });

  it("keeps two users' transcripts apart and ignores directories that are not UUIDs", async () => {
    const alice = randomUUID();
    const bob = randomUUID().toUpperCase();
    await upload(alice, 'same.jsonl', transcript('2026-03-04T10:00:00Z', 'alice'));
    await upload(bob, 'same.jsonl', transcript('2026-03-04T10:00:00Z', 'bob'));
    await upload('not-a-user', 'x.jsonl', transcript('2026-03-04T10:00:00Z', 'nobody'));

    expect(await collect()).toMatchObject({ users: 2, filed: 2 });
    expect(await read(alice, 'sessions', '2026', '03', 'same.jsonl')).toContain('alice');
    expect(await read(bob, 'sessions', '2026', '03', 'same.jsonl')).toContain('bob');
    expect(await readdir(incoming('not-a-user'))).toEqual(['x.jsonl']);
  });

  it('deletes transcripts once retention has passed since the end of their month', async () => {
    const user = randomUUID();
    await upload(user, 'old.jsonl', transcript('2025-12-10T10:00:00Z', 'old'));
    await upload(user, 'recent.jsonl', transcript('2026-01-10T10:00:00Z', 'recent'));
    await collect();
    // December ends 2026-01-01: 180 days later is 2026-06-30.
    expect(await collect({ now: new Date('2026-06-29T00:00:00Z') })).toMatchObject({ expired: 0 });
    expect(await collect({ now: new Date('2026-07-01T00:00:00Z') })).toMatchObject({ expired: 1 });
    expect(await exists(join(dataDir, 'uploads', user, 'sessions', '2025', '12'))).toBe(false);
    expect(await exists(join(dataDir, 'uploads', user, 'sessions', '2026', '01', 'recent.jsonl'))).toBe(true);
  });
});
