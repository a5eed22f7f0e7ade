import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { entriesOf, lstatOrNull, monthFolders, userDirectories } from '../uploads-tree.js';
import { userMessages } from './transcript.js';

/** One file the collector may learn from; `key` (relative to `uploads/`) names it in the cursor. */
export interface CollectorInput {
  key: string;
  userId: string;
  kind: 'local_md' | 'session';
  path: string;
  size: number;
}

export interface InputLimits {
  localMdMaxBytes: number;
  sessionMaxBytes: number;
  includeSessions: boolean;
}

export const SESSION_TEXT_MAX_CHARS = 50_000;
const SESSION_FILE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}\.jsonl$/;

/** A regular file within `maxBytes`; symlinks, directories and oversize files are skipped. */
async function regularFile(path: string, maxBytes: number): Promise<number | null> {
  const stats = await lstatOrNull(path);
  if (!stats?.isFile() || stats.size > maxBytes) return null;
  return stats.size;
}

/**
 * The CLAUDE.local.md and (with `include_sessions`) the collected transcripts of the given users
 * (08 §4.1 step 1). `activeUsers` filters the UUID directories found to existing, active users.
 */
export async function collectorInputs(
  uploadsDir: string,
  limits: InputLimits,
  activeUsers: (ids: string[]) => Promise<ReadonlySet<string>>,
): Promise<CollectorInput[]> {
  const dirs = await userDirectories(uploadsDir);
  const active = await activeUsers(dirs.map((dir) => dir.toLowerCase()));
  const inputs: CollectorInput[] = [];
  for (const dir of dirs) {
    const userId = dir.toLowerCase();
    if (!active.has(userId)) continue;
    const localMd = join(uploadsDir, dir, 'local_md', 'CLAUDE.local.md');
    if ((await lstatOrNull(join(uploadsDir, dir, 'local_md')))?.isDirectory()) {
      const size = await regularFile(localMd, limits.localMdMaxBytes);
      if (size !== null)
        inputs.push({
          key: `${dir}/local_md/CLAUDE.local.md`,
          userId,
          kind: 'local_md',
          path: localMd,
          size,
        });
    }
    if (!limits.includeSessions) continue;
    const sessions = join(uploadsDir, dir, 'sessions');
    for (const [year, month] of await monthFolders(sessions)) {
      for (const entry of await entriesOf(join(sessions, year, month))) {
        if (!SESSION_FILE.test(entry.name)) continue;
        const path = join(sessions, year, month, entry.name);
        const size = await regularFile(path, limits.sessionMaxBytes);
        if (size !== null)
          inputs.push({
            key: `${dir}/sessions/${year}/${month}/${entry.name}`,
            userId,
            kind: 'session',
            path,
            size,
          });
      }
    }
  }
  return inputs;
}

/** The file's bytes hashed for the cursor, and the text the LLM may see (before redaction). */
export async function readInput(input: CollectorInput): Promise<{ sha256: string; text: string }> {
  // A symlink swapped in since the listing is refused, not followed.
  const handle = await open(input.path, constants.O_RDONLY | constants.O_NOFOLLOW);
  let bytes: Buffer;
  try {
    bytes = await handle.readFile();
  } finally {
    await handle.close();
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const raw = bytes.toString('utf8');
  return { sha256, text: input.kind === 'session' ? userMessages(raw) : raw };
}
