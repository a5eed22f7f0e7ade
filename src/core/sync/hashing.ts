import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** Lower-case hex SHA-256 of a file, streamed (never the whole file in memory). */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 }))
    hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export interface HashedShard {
  name: string;
  size: number;
  sha256: string;
}

/**
 * Hash of a multi-file table (02 §1.5): SHA-256 of one `<name>\t<size>\t<sha256>\n` line per
 * shard, sorted by name, so it changes exactly when any shard's content or the shard set changes.
 */
export function multiFileHash(shards: readonly HashedShard[]): string {
  const lines = [...shards]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((s) => `${s.name}\t${s.size}\t${s.sha256}\n`)
    .join('');
  return createHash('sha256').update(lines, 'utf8').digest('hex');
}

export const SHA256_HEX = /^[0-9a-f]{64}$/;
