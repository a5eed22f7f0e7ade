/**
 * File stem → table id (07 §1 local files): lower-case, runs of other characters become `_`, a leading digit
 * gets a `t_` prefix. Returns null when nothing usable remains.
 */
export function normaliseTableName(stem: string): string | null {
  let name = stem
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (name === '') return null;
  if (/^[0-9]/.test(name)) name = `t_${name}`;
  return name.slice(0, 64).replace(/_+$/, '');
}

/** A shard file name for an input inside a multi-file table directory. */
export function shardFileName(stem: string): string | null {
  const name = normaliseTableName(stem);
  return name ? `${name}.parquet` : null;
}
