import { normaliseTableName } from '../../core/ids.js';

/** A shard file name for an input inside a multi-file table directory. */
export function shardFileName(stem: string): string | null {
  const name = normaliseTableName(stem);
  return name ? `${name}.parquet` : null;
}
