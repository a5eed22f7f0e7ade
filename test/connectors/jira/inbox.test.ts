import { readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Inbox, type InboxEvent } from '../../../src/connectors/jira/inbox.js';
import { writeSyncedFile } from '../../../src/core/fs/atomic.js';
import { tempDir } from '../../support/extracts.js';

const cleanups: (() => Promise<void>)[] = [];
async function jiraDir(): Promise<string> {
  const dir = await tempDir('agnes-jira-inbox-');
  cleanups.push(dir.cleanup);
  return dir.path;
}

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

function event(inbox: Inbox, key: string): InboxEvent {
  return {
    ...inbox.stamp(),
    event: 'jira:issue_updated',
    issue_key: key,
    issue_ids: [],
    payload: { n: key },
  };
}

describe('Jira inbox', () => {
  it('stores each event as its own file, listed in arrival order, readable until it is completed', async () => {
    const inbox = new Inbox(await jiraDir());
    const first = await inbox.append(event(inbox, 'A-1'));
    const second = await inbox.append(event(inbox, 'A-2'));
    expect(await inbox.list()).toEqual([first, second]);
    // What is on disk is the whole event, not only what the process remembers.
    expect(JSON.parse(await readFile(join(inbox.dir, first), 'utf8'))).toMatchObject({ issue_key: 'A-1' });
    expect(await inbox.read(first)).toMatchObject({ file: first, issue_key: 'A-1', payload: { n: 'A-1' } });

    await inbox.complete([first]);
    expect(await inbox.list()).toEqual([second]);
    const day = (await readdir(inbox.processedDir))[0] as string;
    expect(await readdir(join(inbox.processedDir, day))).toEqual([first]);
    expect(await inbox.read(first)).toBeNull();
  });

  it('reads an event it did not write itself from its file (events survive a restart)', async () => {
    const dir = await jiraDir();
    const writer = new Inbox(dir);
    const file = await writer.append(event(writer, 'B-7'));
    const restarted = new Inbox(dir);
    expect(await restarted.list()).toEqual([file]);
    expect(await restarted.read(file)).toMatchObject({ issue_key: 'B-7' });
  });

  it('leaves alone an event file another replica is still writing, and calls it damaged once it is old', async () => {
    const dir = await jiraDir();
    const inbox = new Inbox(dir);
    await inbox.append(event(inbox, 'D-0'));
    // Another process's append: created under its final name, its JSON not all there yet.
    const file = '20261208T050000000Z-0f0f0f0f-0f0f-4f0f-8f0f-0f0f0f0f0f0f.json';
    await writeFile(join(inbox.dir, file), '{"event":"jira:issue_upd');

    expect(await inbox.list()).toContain(file);
    expect(await inbox.read(file)).toBeNull();

    const old = new Date(Date.now() - 60_000);
    await utimes(join(inbox.dir, file), old, old);
    await expect(inbox.read(file)).rejects.toThrow();
  });

  it('fails an append when the event cannot be written, leaving no file behind', async () => {
    const dir = await jiraDir();
    const inbox = new Inbox(dir);
    // The inbox path is taken by a file: no directory can be made there.
    await writeFile(join(dir, 'inbox'), 'not a directory');
    await expect(inbox.append(event(inbox, 'C-1'))).rejects.toThrow();
    expect(await readdir(dir)).toEqual(['inbox']);
  });
});

describe('writeSyncedFile', () => {
  it('writes a new file, runs `created` once it exists and fails with it', async () => {
    const dir = await jiraDir();
    const path = join(dir, 'one.json');
    let existedWhenCreated = false;
    await writeSyncedFile(path, '{"a":1}', {
      created: async () => {
        existedWhenCreated = (await readdir(dir)).includes('one.json');
      },
    });
    expect(existedWhenCreated).toBe(true);
    expect(await readFile(path, 'utf8')).toBe('{"a":1}');
    // Never over an existing file.
    await expect(writeSyncedFile(path, 'other')).rejects.toMatchObject({ code: 'EEXIST' });
    expect(await readFile(path, 'utf8')).toBe('{"a":1}');

    const failing = join(dir, 'two.json');
    await expect(
      writeSyncedFile(failing, 'x', { created: () => Promise.reject(new Error('directory fsync failed')) }),
    ).rejects.toThrow('directory fsync failed');
  });
});
