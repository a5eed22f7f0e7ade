/**
 * How booleans and JSON are stored, by column name, on both dialects (02 §5): the SQLite plugin
 * converts these columns by name, the backup writes them as JSON values, and repositories
 * serialise JSON columns with `toJson`.
 */

export const BOOLEAN_COLUMNS: ReadonlySet<string> = new Set([
  'active',
  'is_service',
  'enabled',
  'profile_after_sync',
  'is_public',
  'is_discoverable',
]);

export const JSON_COLUMNS: ReadonlySet<string> = new Set([
  'files',
  'tables',
  'profile',
  'tags',
  'contributors',
  'params',
  'recipients',
  'last_output',
  'report',
  'condition',
  'channels',
  'values',
  'applies_to',
  'masked_columns',
  'outcome',
]);

export function toJson(value: unknown): string {
  return JSON.stringify(value ?? null);
}

/** Serialises a nullable JSON column, keeping absence as SQL NULL. */
export function toNullableJson(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}
