import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { openDuck, queryOne, queryRows, toNumber } from '../duckdb/engine.js';
import { quoteIdent, quoteLiteral } from '../duckdb/sql.js';
import { AgnesError, errorMessage } from '../errors.js';
import { PARQUET_COPY_OPTIONS } from '../extract/contract.js';
import { publishFile, tempPathFor } from '../fs/atomic.js';
import type { ViewMapRow } from '../orchestrator/view-map.js';
import { lockDown } from '../query/lockdown.js';
import type { PolicySlicesRepository } from '../state/repositories/index.js';
import { sha256File } from '../sync/hashing.js';
import type { OpenedFile } from '../sync/published-file.js';
import type { PolicySalt } from './salt.js';
import type { EffectiveView, MaskedColumn, TableColumn } from './types.js';

/**
 * Policy slices (12 §3): one Parquet file per binding (the table's content hash, the bound filter,
 * the masks and, when a column is hashed, the salt version), shared by every reader with that
 * binding. A slice is built once per key however many requests ask for it, off the request path:
 * the build runs on its own DuckDB instance and outlives the request that started it, which waits
 * at most `slice_wait_seconds` and then hears 503 `slice_pending`.
 *
 * Slices are built here rather than as jobs of the job runner: a job there is a persisted,
 * audited unit of work per source that requests never wait for, while a slice is a cache entry
 * a request waits on; its `policy_slices` row is the record.
 */

/** The salt of `hash` masks and its version (12 §6); the version is part of a hashed slice's key. */
/** A slice on disk, as the read paths need it. */
export interface Slice {
  key: string;
  tableId: string;
  /** Absolute path of the Parquet file. */
  path: string;
  rows: number;
  size_bytes: number;
  sha256: string;
}

/** The view a failing filter falls back to: zero rows, every column (12 §2 fails closed). */
const EMPTY_VIEW: EffectiveView = Object.freeze({
  kind: 'empty',
  policies: [],
  bound_filter: 'FALSE',
  masks: [],
  failures: [],
}) as EffectiveView;

const MAX_FAILED = 1_000;

/** A binding whose filter the engine refused on the table's data; its readers get the empty view. */
class FilterFailed extends Error {}

/** DuckDB's classes of errors that a filter meets on values (not files, memory or the disk). */
const DATA_ERRORS = /^(Conversion|Invalid Input|Out of Range|Binder|Not implemented) Error/;
const isDataError = (error: unknown) => DATA_ERRORS.test(errorMessage(error));

/** Where the slices of one table live (its own directory, so the build may write nowhere else). */
export function sliceDir(dataDir: string, tableId: string): string {
  return join(dataDir, 'slices', tableId);
}

export function slicePath(dataDir: string, tableId: string, key: string): string {
  return join(sliceDir(dataDir, tableId), `${key}.parquet`);
}

const hasHashMask = (masks: readonly MaskedColumn[]) => masks.some((m) => m.mask === 'hash');

/**
 * The SHA-256 of a binding (12 §3). The salt version counts only when a column is hashed, so a
 * new salt rebuilds exactly the slices whose bytes depend on it.
 */
export function sliceKey(
  tableHash: string,
  view: Pick<EffectiveView, 'bound_filter' | 'masks'>,
  saltVersion: string | null,
): string {
  const masks = [...view.masks].sort((a, b) => (a.column < b.column ? -1 : a.column > b.column ? 1 : 0));
  const binding = JSON.stringify({
    table_hash: tableHash,
    filter: view.bound_filter,
    masks: masks.map((m) => [m.column, m.mask]),
    salt_version: hasHashMask(masks) ? saltVersion : null,
  });
  return createHash('sha256').update(binding, 'utf8').digest('hex');
}

/**
 * The select list of a binding: every column in the table's order, masked ones replaced under
 * their own name (12 §1). `saltRef` is the SQL expression of the salt: a bound parameter, never
 * the salt's text.
 */
export function maskedSelectList(
  columns: readonly TableColumn[],
  masks: readonly MaskedColumn[],
  saltRef: string,
): string {
  const maskOf = new Map(masks.map((m) => [m.column, m.mask]));
  return columns
    .map(({ name, type }) => {
      const col = quoteIdent(name);
      const mask = maskOf.get(name);
      if (mask === 'null') return `CAST(NULL AS ${type}) AS ${col}`;
      // NULL || … is NULL, so a NULL value stays NULL.
      if (mask === 'hash') return `sha256(${saltRef} || ':' || CAST(${col} AS VARCHAR)) AS ${col}`;
      return col;
    })
    .join(', ');
}

/** `WHERE` text of a bound filter; the newline ends a trailing line comment the validator let by. */
export const whereOf = (filter: string | null) => (filter === null ? '' : ` WHERE (${filter}\n)`);

export interface PolicySlicesOptions {
  dataDir: string;
  /** This replica's temp directory (`DATA_DIR/tmp/<instance_id>`); builds spill under `slices/`. */
  tempDir: string;
  repo: PolicySlicesRepository;
  /** Asked for only when a binding hashes a column (`src/core/policies/salt.ts` through the runtime). */
  salt(): Promise<PolicySalt>;
  /** `policies.slice_wait_seconds`. */
  waitSeconds: number;
  /** DuckDB threads of one build. */
  threads: number;
  log: { error(detail: Record<string, unknown>, message: string): void };
  /** A slice's `last_used_at` is written at most this often (one write per minute, not per request). */
  touchIntervalMs?: number;
  /**
   * With replicas (13 §3): runs `work` holding the cluster-wide lock `name`, or answers null when
   * another replica holds it, so one replica builds a key while the others wait for its record.
   */
  clusterLock?: (name: string, work: () => Promise<Slice>) => Promise<{ value: Slice } | null>;
}

/** How often a replica waiting for another's build of a slice looks for its record. */
const CLUSTER_POLL_MS = 100;

/** The published table a binding reads: its view map row (local, with files and a hash). */
export type SliceTable = Pick<ViewMapRow, 'table_id' | 'hash' | 'layout' | 'files' | 'query_mode'>;

/**
 * Builds and finds slices. `ensure()` is what every read path calls for a bound local table; the
 * same instance serves the whole app so that builds are single-flight per key.
 */
export class PolicySlices {
  readonly #options: PolicySlicesOptions;
  readonly #building = new Map<string, Promise<Slice>>();
  readonly #touched = new Map<string, number>();
  /**
   * Keys whose filter failed on the table's data, so that a failing scan is not repeated on every
   * request. A new table hash or binding is a new key; the set is bounded and starts empty.
   */
  readonly #failed = new Set<string>();
  #builds = 0;

  constructor(options: PolicySlicesOptions) {
    this.#options = options;
  }

  /** Builds started since the process began (tests: one build for many concurrent first requests). */
  get builds(): number {
    return this.#builds;
  }

  /** The key of a binding of `table`, reading the salt version only when a column is hashed. */
  async keyOf(table: SliceTable, view: EffectiveView): Promise<string> {
    const saltVersion = hasHashMask(view.masks) ? (await this.#options.salt()).saltVersion : null;
    return sliceKey(requireHash(table), view, saltVersion);
  }

  /**
   * The slice of `view` over `table`, built if needed. Waits at most `slice_wait_seconds`; the
   * build goes on after a 503 `slice_pending`, and the retry finds it done.
   */
  async ensure(table: SliceTable, view: EffectiveView): Promise<Slice> {
    try {
      const found = await this.#find(table, view);
      return 'slice' in found ? found.slice : await this.#wait(found.build);
    } catch (error) {
      // A filter that fails on the table's data fails closed for this table only (12 §2); the
      // reader's other tables, and so their queries and manifest, are not held up by it.
      if (error instanceof FilterFailed && view.bound_filter !== EMPTY_VIEW.bound_filter)
        return this.ensure(table, EMPTY_VIEW);
      throw error;
    }
  }

  /**
   * The slice if it is built already, else null with its build started: for listings, which show
   * no figures rather than wait.
   */
  async peek(table: SliceTable, view: EffectiveView): Promise<Slice | null> {
    const found = await this.#find(table, view).catch((error: unknown) => {
      if (error instanceof FilterFailed) return this.#find(table, EMPTY_VIEW);
      throw error;
    });
    return 'slice' in found ? found.slice : null;
  }

  async #find(table: SliceTable, view: EffectiveView): Promise<{ slice: Slice } | { build: Promise<Slice> }> {
    const key = await this.keyOf(table, view);
    if (this.#failed.has(key)) throw new FilterFailed();
    const inFlight = this.#building.get(key);
    if (inFlight) return { build: inFlight };
    const existing = await this.#existing(table.table_id, key);
    if (existing) {
      await this.#touch(key);
      return { slice: existing };
    }
    // Checked again: another request may have started the build while this one looked on disk.
    let build = this.#building.get(key);
    if (!build) {
      build = this.#buildOnce(table, view, key).finally(() => this.#building.delete(key));
      // The build outlives a request that stopped waiting; its failure is logged in #build.
      build.catch(() => undefined);
      this.#building.set(key, build);
    }
    return { build };
  }

  /** Single-flight across replicas too: the holder of the key's lock builds, unless it is built already. */
  async #buildOnce(table: SliceTable, view: EffectiveView, key: string): Promise<Slice> {
    const lock = this.#options.clusterLock;
    if (!lock) return this.#build(table, view, key);
    for (;;) {
      const held = await lock(
        `agnes:slice:${key}`,
        async () => (await this.#existing(table.table_id, key)) ?? this.#build(table, view, key),
      );
      if (held) return held.value;
      await sleep(CLUSTER_POLL_MS);
      const built = await this.#existing(table.table_id, key);
      if (built) return built;
    }
  }

  #wait(build: Promise<Slice>): Promise<Slice> {
    return waitForSlice(build, this.#options.waitSeconds);
  }

  /** A recorded slice whose file is still there with the recorded size. */
  async #existing(tableId: string, key: string): Promise<Slice | null> {
    const row = await this.#options.repo.get(key);
    if (!row) return null;
    const path = slicePath(this.#options.dataDir, tableId, key);
    const info = await stat(path).catch(() => null);
    if (!info?.isFile() || info.size !== row.size_bytes) return null;
    return { key, tableId, path, rows: row.rows, size_bytes: row.size_bytes, sha256: row.sha256 };
  }

  async #touch(key: string): Promise<void> {
    const now = Date.now();
    const last = this.#touched.get(key);
    if (last !== undefined && now - last < (this.#options.touchIntervalMs ?? 60_000)) return;
    this.#touched.set(key, now);
    await this.#options.repo.touch(key);
  }

  async #build(table: SliceTable, view: EffectiveView, key: string): Promise<Slice> {
    this.#builds += 1;
    const { dataDir, threads } = this.#options;
    const dir = sliceDir(dataDir, table.table_id);
    const path = slicePath(dataDir, table.table_id, key);
    const temp = tempPathFor(path);
    const scratch = join(this.#options.tempDir, 'slices', randomBytes(8).toString('hex'));
    await mkdir(dir, { recursive: true, mode: 0o750 });
    await mkdir(scratch, { recursive: true, mode: 0o700 });
    const files = table.files.map((f) => join(dataDir, f.path));
    const salt = hasHashMask(view.masks) ? (await this.#options.salt()).salt : null;
    const duck = await openDuck(':memory:', { threads, tempDirectory: scratch });
    try {
      // Locked down like a sandbox: the build reads the table's files and writes its slice
      // directory, nothing else, so a filter cannot reach any other file.
      await lockDown(duck.conn, { paths: files, directories: [dir] });
      const from = `read_parquet([${files.map(quoteLiteral).join(', ')}], union_by_name = true)`;
      const columns = await queryRows<{ column_name: string; column_type: string }>(
        duck.conn,
        `DESCRIBE SELECT * FROM ${from}`,
      );
      const select = maskedSelectList(
        columns.map((c) => ({ name: c.column_name, type: c.column_type })),
        view.masks,
        '$1',
      );
      await duck.conn
        .run(
          `COPY (SELECT ${select} FROM ${from}${whereOf(view.bound_filter)}) TO ${quoteLiteral(temp)} (${PARQUET_COPY_OPTIONS})`,
          salt === null ? [] : [salt],
        )
        .catch((error: unknown) => {
          // The engine refused the filter on this data (a value that does not convert, say);
          // I/O failures are not the filter's.
          if (!isDataError(error)) throw error;
          if (this.#failed.size >= MAX_FAILED) this.#failed.clear();
          this.#failed.add(key);
          throw new FilterFailed(errorMessage(error));
        });
      const counted = await queryOne<{ n: unknown }>(
        duck.conn,
        `SELECT count(*) AS n FROM read_parquet(${quoteLiteral(temp)})`,
      );
      const [info, sha256] = await Promise.all([stat(temp), sha256File(temp)]);
      await publishFile(temp, path);
      const rows = toNumber(counted?.n ?? 0) ?? 0;
      await this.#options.repo.upsert({
        slice_key: key,
        table_id: table.table_id,
        table_hash: requireHash(table),
        binding_hash: key,
        rows,
        size_bytes: info.size,
        sha256,
      });
      this.#touched.set(key, Date.now());
      return { key, tableId: table.table_id, path, rows, size_bytes: info.size, sha256 };
    } catch (error) {
      await rm(temp, { force: true });
      // The message may quote the statement; the salt is a parameter, so it is not in it.
      this.#options.log.error(
        { table_id: table.table_id, err: errorMessage(error) },
        'policy slice build failed',
      );
      if (error instanceof FilterFailed) throw error;
      throw new AgnesError(
        'sandbox_unavailable',
        'your view of this table could not be prepared; try again later',
      );
    } finally {
      duck.close();
      await rm(scratch, { recursive: true, force: true });
    }
  }
}

/**
 * Opens a slice for streaming and checks it is the recorded file (no symlink, same size), like a
 * published file (02 §4); null when it is gone or was replaced.
 */
export async function openSliceFile(slice: Slice): Promise<OpenedFile | null> {
  const handle = await open(slice.path, constants.O_RDONLY | constants.O_NOFOLLOW).catch(() => null);
  if (!handle) return null;
  try {
    const info = await handle.stat();
    if (!info.isFile() || info.size !== slice.size_bytes) {
      await handle.close();
      return null;
    }
    return { handle, size: info.size, mtime: info.mtime };
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
}

/**
 * Waits at most `seconds` for work a request needs from a slice (the slice, its profile), then
 * 503 `slice_pending` with `Retry-After`; the work itself goes on.
 */
export async function waitForSlice<T>(work: Promise<T>, seconds: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          Object.assign(
            new AgnesError(
              'slice_pending',
              'your view of this table is still being prepared; try again shortly',
            ),
            { retryAfter: Math.min(seconds, 10) },
          ),
        ),
      seconds * 1000,
    );
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function requireHash(table: SliceTable): string {
  if (table.query_mode !== 'local' || !table.hash)
    throw new Error(`policy slice of ${table.table_id}: only a published local table has a slice`);
  return table.hash;
}
