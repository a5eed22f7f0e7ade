/** Sizes in configuration: bytes, or a number with a binary unit (`1KB` = 1,024 bytes). */

export const SIZE_PATTERN = '^[0-9]+(\\.[0-9]+)?\\s*(B|KB|MB|GB|TB)?$';

const UNITS: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };

export function parseSize(value: number | string): number {
  if (typeof value === 'number') return value;
  const match = /^([0-9]+(?:\.[0-9]+)?)\s*(B|KB|MB|GB|TB)?$/.exec(value.trim());
  if (!match) throw new Error(`invalid size "${value}"`);
  return Math.round(Number(match[1]) * (UNITS[match[2] ?? 'B'] ?? 1));
}

/** DuckDB setting syntax for a byte count (`memory_limit = '1024MiB'`). */
export function toDuckSize(bytes: number): string {
  return `${Math.max(1, Math.floor(bytes / 1024 ** 2))}MiB`;
}
