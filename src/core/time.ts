/** Timestamps are ISO 8601 UTC with millisecond precision and a `Z` suffix everywhere. */

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export function toIso(date: Date): string {
  return date.toISOString();
}

export function nowIso(clock: Clock = systemClock): string {
  return clock.now().toISOString();
}

/** Normalises a DuckDB / driver timestamp (Date, ISO text without zone, epoch micros) to ISO UTC. */
export function normaliseTimestamp(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (typeof value === 'string') {
    const hasZone = /(Z|[+-]\d{2}(:?\d{2})?)$/.test(value);
    const parsed = new Date(hasZone ? value : `${value.replace(' ', 'T')}Z`);
    return Number.isNaN(parsed.getTime()) ? null : parsed.toISOString();
  }
  return null;
}
