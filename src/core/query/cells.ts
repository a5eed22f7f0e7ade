import type { JsonValue } from './value-encoding.js';

/**
 * Result cells as text, shared by every text rendering of a query result (CSV exports, `da query`,
 * the MCP tools): NULL is empty and nested values are their JSON (05 §6 result encoding).
 */
export function cellText(value: JsonValue): string {
  if (value === null) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** RFC 4180: quote a field holding a comma, quote, CR or LF, doubling inner quotes. */
export function csvField(value: JsonValue): string {
  const text = cellText(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One CSV record with its CRLF terminator. */
export const csvLine = (values: readonly JsonValue[]): string => `${values.map(csvField).join(',')}\r\n`;
