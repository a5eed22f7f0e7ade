import type { Profile } from '../../contract/index.js';
import { pct } from '../profiler/format.js';
import type { Slice } from './slices.js';
import { waitForSlice } from './slices.js';
import type { MaskedColumn } from './types.js';

/** Slice profiles kept in memory; each is small, and a slice key names one binding of one table. */
const MAX_CACHED = 64;

/**
 * Profiles of slices (12 §3 Catalog and profiles): computed on demand from the slice file, once
 * per slice key however many readers ask, cached by key, and waited for like a slice.
 */
export class SliceProfiles {
  readonly #compute: (slice: Slice) => Promise<Profile>;
  readonly #waitSeconds: number;
  readonly #cache = new Map<string, Promise<Profile>>();

  constructor(compute: (slice: Slice) => Promise<Profile>, waitSeconds: number) {
    this.#compute = compute;
    this.#waitSeconds = waitSeconds;
  }

  get(slice: Slice): Promise<Profile> {
    let profile = this.#cache.get(slice.key);
    if (profile) {
      // Most recently used last.
      this.#cache.delete(slice.key);
    } else {
      profile = this.#compute(slice);
      const computed = profile;
      computed.catch(() => {
        if (this.#cache.get(slice.key) === computed) this.#cache.delete(slice.key);
      });
    }
    this.#cache.set(slice.key, profile);
    while (this.#cache.size > MAX_CACHED) this.#cache.delete(this.#cache.keys().next().value!);
    return waitForSlice(profile, this.#waitSeconds);
  }
}

/**
 * A slice's profile as its reader sees it: masked columns leave no statistic behind (their name
 * and type stay in the table's detail), in the column list, the alerts, the date range and the
 * sample rows alike.
 */
export function withoutMaskedColumns(profile: Profile, masks: readonly MaskedColumn[]): Profile {
  const masked = new Set(masks.map((m) => m.column));
  if (masked.size === 0) return profile;
  const columns = profile.columns.filter((c) => !masked.has(c.name));
  const missing = columns.reduce((sum, c) => sum + c.null_count, 0);
  const cells = profile.row_count * columns.length;
  return {
    ...profile,
    columns,
    // Completeness over the unmasked columns only: a masked column's null count is a statistic.
    avg_completeness: columns.length
      ? pct(
          columns.reduce((sum, c) => sum + c.completeness_pct, 0),
          columns.length * 100,
        )
      : 100,
    missing_cells: missing,
    missing_cells_pct: pct(missing, cells),
    alerts: profile.alerts.filter((a) => !masked.has(a.column)),
    date_range: profile.date_range && masked.has(profile.date_range.column) ? null : profile.date_range,
    sample_rows: profile.sample_rows.map((row) =>
      Object.fromEntries(Object.entries(row).filter(([column]) => !masked.has(column))),
    ),
  };
}
