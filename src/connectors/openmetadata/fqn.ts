import type { RegistryEntry } from '../../core/state/repositories/index.js';

/** OpenMetadata's own limit on a fully qualified name. */
export const MAX_FQN_CHARS = 3072;

const PLACEHOLDER = /\{(id|source|bucket|source_table)\}/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: an FQN with control characters is refused
const CONTROL = /[\u0000-\u001f\u007f]/;

export type FqnTable = Pick<RegistryEntry, 'id' | 'source' | 'bucket' | 'source_table' | 'catalog_fqn'>;

/**
 * A table's OpenMetadata FQN (07 §6): `catalog_fqn` from the registry, else `fqn_template` with
 * `{id}`, `{source}`, `{bucket}` and `{source_table}` filled in, else none. A template that needs
 * a value the table does not have (no bucket, no source table) gives none rather than a wrong name.
 */
export function tableFqn(table: FqnTable, template: string): string | null {
  const fqn = table.catalog_fqn?.trim() ? table.catalog_fqn.trim() : renderTemplate(table, template);
  if (fqn === null || fqn === '' || fqn.length > MAX_FQN_CHARS || CONTROL.test(fqn)) return null;
  return fqn;
}

function renderTemplate(table: FqnTable, template: string): string | null {
  if (template.trim() === '') return null;
  let missing = false;
  const fqn = template.replace(PLACEHOLDER, (_, key: 'id' | 'source' | 'bucket' | 'source_table') => {
    const value = table[key] ?? '';
    if (value === '') missing = true;
    return value;
  });
  return missing ? null : fqn.trim();
}

/** The table's page in the OpenMetadata UI: `<url>/table/<fqn>`, the FQN as one encoded segment. */
export function tableLink(baseUrl: string, fqn: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/table/${encodeURIComponent(fqn)}`;
}
