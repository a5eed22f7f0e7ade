import type { ManifestTable } from '../../contract/index.js';
import { isValidShardName, isValidTableId } from '../../core/ids.js';

const HASH = /^[0-9a-f]{64}$/;

/**
 * Path safety (06 §8): every id, file name and layout is checked before any filesystem call, so a
 * hostile or broken manifest cannot write outside the local data directory.
 */
export function unsafeReason(key: string, table: ManifestTable): string | null {
  if (!isValidTableId(key) || table.id !== key) return 'table id is not a valid identifier';
  if (table.layout === 'remote') return table.files.length === 0 ? null : 'remote table lists files';
  if (table.layout !== 'single' && table.layout !== 'multi') return 'unknown layout';
  if (!Array.isArray(table.files) || table.files.length === 0) return 'local table lists no files';
  if (table.layout === 'single' && table.files.length !== 1) return 'single-file table lists several files';
  const names = new Set<string>();
  for (const file of table.files) {
    if (typeof file.name !== 'string' || !isValidShardName(file.name))
      return 'file name is not a valid shard name';
    if (names.has(file.name)) return 'file listed twice';
    names.add(file.name);
    if (!Number.isSafeInteger(file.size) || file.size < 0) return 'file size is invalid';
    if (typeof file.hash !== 'string' || !HASH.test(file.hash)) return 'file hash is invalid';
  }
  return null;
}
