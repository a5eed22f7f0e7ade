import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { chmod, copyFile, lstat, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { openDuck, queryOne } from '../duckdb/engine.js';
import { quoteIdent, quoteLiteral } from '../duckdb/sql.js';
import { AgnesError } from '../errors.js';
import { type AttachRemote, attachRemoteCatalog } from '../extract/remote-attach.js';
import { DIR_MODE, FILE_MODE, fsyncDir, fsyncFile } from '../fs/atomic.js';
import { acquireLock, LockTimeoutError } from '../fs/lock-file.js';
import { isValidSourceName } from '../ids.js';
import { type Clock, systemClock } from '../time.js';
import { hashCacheOf } from './file-records.js';
import {
  byteOrder,
  emptySourceReport,
  failedSource,
  type RebuildReport,
  type SkippedEntry,
} from './report.js';
import { runReport } from './run-report.js';
import { type RebuildFlight, type RebuildRequest, SingleFlight } from './single-flight.js';
import {
  type BuildSession,
  buildSource,
  extractExists,
  failedOutcome,
  inspectExtract,
  type SourceOutcome,
} from './source-builder.js';
import { computeStateChanges, type StateChanges, type SyncStateRecord } from './state-changes.js';
import {
  type BuildInfo,
  createViewMapTables,
  insertViewMapRows,
  readBuildInfo,
  readViewMap,
  readViewOwners,
  writeBuildInfo,
} from './view-map.js';

/** What the orchestrator needs from the state store: read the current rows, apply one run's changes atomically. */
export interface OrchestratorStateStore {
  /** Every row, or only the rows of one source. */
  listSyncStates(source?: string): Promise<SyncStateRecord[]>;
  applyRebuild(changes: StateChanges): Promise<void>;
}

export interface OrchestratorOptions {
  dataDir: string;
  state: OrchestratorStateStore;
  remoteExtensions?: readonly string[];
  installExtensions?: boolean;
  attachRemote?: AttachRemote;
  env?: Record<string, string | undefined>;
  clock?: Clock;
  /** How long to wait for another process's rebuild before failing with `rebuild_locked`. */
  lockWaitMs?: number;
  /**
   * Across replicas (PostgreSQL store): turns `run` into the cluster's single flight, which also
   * keeps two runs apart, in place of this process's single flight and the lock file (02 §2.5).
   */
  clusterFlight?: (run: (request: RebuildRequest) => Promise<RebuildReport>) => RebuildFlight<RebuildReport>;
  /**
   * Test seam: awaited at named points of a run (`opened`, `source:<name>`, `closed`, `renamed`),
   * so fault tests can kill the process exactly there.
   */
  pause?: (point: string) => Promise<void>;
}

export const ANALYTICS_FILE = 'server.duckdb';
const TEMP_PREFIX = `${ANALYTICS_FILE}.tmp-`;

interface SourceBuild {
  outcome: SourceOutcome;
  report: RebuildReport;
}

interface ExtractListing {
  sources: string[];
  missing: string[];
  skipped: SkippedEntry[];
  exists: boolean;
}

/**
 * Publishes every extract as views in `analytics/server.duckdb` (02 §2 SyncOrchestrator). Builds into a temp file
 * and renames it into place, so readers see the old or the new generation and never a mix.
 * Emits `generation` (number) after each publication.
 */
export class SyncOrchestrator extends EventEmitter {
  readonly dataDir: string;
  readonly analyticsDir: string;
  readonly analyticsPath: string;
  readonly #options: OrchestratorOptions;
  readonly #clock: Clock;
  readonly #flight: RebuildFlight<RebuildReport>;
  #pauseAt: ((point: string) => Promise<void>) | undefined;

  constructor(options: OrchestratorOptions) {
    super();
    this.#options = options;
    this.dataDir = options.dataDir;
    this.analyticsDir = join(options.dataDir, 'analytics');
    this.analyticsPath = join(this.analyticsDir, ANALYTICS_FILE);
    this.#clock = options.clock ?? systemClock;
    this.#flight = options.clusterFlight
      ? options.clusterFlight((request) => this.#unlocked(request))
      : new SingleFlight((request) => this.#locked(request));
    this.#pauseAt = options.pause;
  }

  /** Replaces the fault-test pause seam (see OrchestratorOptions.pause). */
  setPause(pause: ((point: string) => Promise<void>) | undefined): void {
    this.#pauseAt = pause;
  }

  /** Runs started by this orchestrator (coalesced calls share runs). */
  get runs(): number {
    return this.#flight.runs;
  }

  rebuild(): Promise<RebuildReport> {
    return this.#flight.request({ kind: 'full' });
  }

  rebuildSource(name: string): Promise<RebuildReport> {
    if (!isValidSourceName(name))
      return Promise.reject(new AgnesError('invalid_name', 'source name is not a valid identifier'));
    return this.#flight.request({ kind: 'source', source: name });
  }

  /** The published generation, or 0 when nothing has been published yet. */
  async currentGeneration(): Promise<number> {
    return (await this.#readPublished(false))?.build.generation ?? 0;
  }

  /** The published build record and view count, or null when there is no readable analytics file. */
  async published(): Promise<{ build: BuildInfo; views: number } | null> {
    const published = await this.#readPublished();
    return published ? { build: published.build, views: published.views.length } : null;
  }

  async #locked(request: RebuildRequest): Promise<RebuildReport> {
    await mkdir(this.analyticsDir, { recursive: true, mode: DIR_MODE });
    const lock = await acquireLock(join(this.analyticsDir, '.rebuild.lock'), {
      waitMs: this.#options.lockWaitMs ?? 60_000,
    }).catch((error: unknown) => {
      if (error instanceof LockTimeoutError)
        throw new AgnesError('rebuild_locked', 'another rebuild is running; try again later');
      throw error;
    });
    try {
      return await this.#unlocked(request);
    } finally {
      await lock.release();
    }
  }

  /** One run; the caller keeps other runs out (the lock file, or the cluster's lock). */
  async #unlocked(request: RebuildRequest): Promise<RebuildReport> {
    await mkdir(this.analyticsDir, { recursive: true, mode: DIR_MODE });
    await this.#removeStaleTemps();
    return request.kind === 'full' ? await this.#runFull(null) : await this.#runSource(request.source);
  }

  async #pause(point: string): Promise<void> {
    if (this.#pauseAt) await this.#pauseAt(point);
  }

  async #removeStaleTemps(): Promise<void> {
    for (const name of await readdir(this.analyticsDir)) {
      if (name.startsWith(TEMP_PREFIX)) await rm(join(this.analyticsDir, name), { force: true });
    }
    await rm(`${this.analyticsPath}.wal`, { force: true });
  }

  #tempPath(): string {
    return join(this.analyticsDir, `${TEMP_PREFIX}${process.pid}-${randomBytes(4).toString('hex')}`);
  }

  async #readPublished(
    withViews = true,
  ): Promise<{ build: BuildInfo; views: Awaited<ReturnType<typeof readViewMap>> } | null> {
    if (!(await lstat(this.analyticsPath).catch(() => null))) return null;
    const duck = await openDuck();
    try {
      await duck.conn.run(`ATTACH ${quoteLiteral(this.analyticsPath)} AS published (READ_ONLY)`);
      const build = await readBuildInfo(duck.conn, 'published');
      if (!build) return null;
      return { build, views: withViews ? await readViewMap(duck.conn, 'published') : [] };
    } catch {
      return null;
    } finally {
      duck.close();
    }
  }

  async #listExtracts(): Promise<ExtractListing> {
    const root = join(this.dataDir, 'extracts');
    const entries = await readdir(root).catch(() => null);
    const listing: ExtractListing = { sources: [], missing: [], skipped: [], exists: entries !== null };
    if (!entries) {
      listing.skipped.push({ entry: 'extracts', reason: 'no_extracts' });
      return listing;
    }
    const seen = new Set<string>();
    for (const entry of entries.sort(byteOrder)) {
      const info = await lstat(join(root, entry));
      if (info.isSymbolicLink()) listing.skipped.push({ entry, reason: 'symlink' });
      else if (!info.isDirectory()) listing.skipped.push({ entry, reason: 'not_a_directory' });
      else if (!isValidSourceName(entry)) listing.skipped.push({ entry, reason: 'invalid_name' });
      else if (seen.has(entry.toLowerCase())) listing.skipped.push({ entry, reason: 'duplicate_source' });
      else if (!(await extractExists(this.dataDir, entry))) {
        seen.add(entry.toLowerCase());
        listing.missing.push(entry);
      } else {
        seen.add(entry.toLowerCase());
        listing.sources.push(entry);
      }
    }
    return listing;
  }

  #session(
    conn: BuildSession['conn'],
    inspect: BuildSession['inspect'],
    previousStates: readonly SyncStateRecord[],
    listing: ExtractListing,
  ): BuildSession {
    return {
      conn,
      inspect,
      dataDir: this.dataDir,
      remoteExtensions: new Set(this.#options.remoteExtensions ?? []),
      installExtensions: this.#options.installExtensions ?? false,
      attachRemote: this.#options.attachRemote ?? attachRemoteCatalog,
      env: this.#options.env ?? process.env,
      published: new Map(),
      aliases: new Map(),
      sourceNames: new Set([...listing.sources, ...listing.missing].map((s) => s.toLowerCase())),
      cache: hashCacheOf(previousStates),
      previous: new Map(previousStates.map((s) => [s.table_id, s])),
    };
  }

  async #runFull(escalatedFrom: string | null): Promise<RebuildReport> {
    const startedAt = this.#clock.now();
    const started = performance.now();
    const listing = await this.#listExtracts();
    const previousStates = await this.#options.state.listSyncStates();
    // The recorded generations keep the count monotonic even when the published file was lost.
    const recorded = Math.max(0, ...previousStates.map((state) => state.updated_generation ?? 0));
    const generation = Math.max(await this.currentGeneration(), recorded) + 1;
    const temp = this.#tempPath();
    const outcomes: SourceOutcome[] = [];
    let report: RebuildReport;
    try {
      const duck = await openDuck(temp);
      const inspect = await openDuck();
      try {
        await this.#pause('opened');
        await createViewMapTables(duck.conn);
        const session = this.#session(duck.conn, inspect.conn, previousStates, listing);
        let next =
          listing.sources[0] === undefined
            ? undefined
            : inspectExtract(inspect.conn, this.dataDir, listing.sources[0]);
        for (const [i, source] of listing.sources.entries()) {
          const current = next!;
          const following = listing.sources[i + 1];
          next =
            following === undefined
              ? undefined
              : current.then(() => inspectExtract(inspect.conn, this.dataDir, following));
          outcomes.push(await buildSource(session, source, current));
          await this.#pause(`source:${source}`);
        }
        for (const source of listing.missing)
          outcomes.push(failedOutcome(source, failedSource('missing_extract')));
        await insertViewMapRows(
          duck.conn,
          outcomes.flatMap((o) => o.published.map((p) => p.row)),
        );
        report = runReport(
          'full',
          null,
          escalatedFrom,
          startedAt,
          started,
          generation,
          outcomes,
          listing.skipped,
        );
        await writeBuildInfo(duck.conn, {
          generation,
          built_at: report.finished_at,
          mode: 'full',
          report,
          remote_attach: outcomes.flatMap((o) => o.remoteAttach),
          collisions: report.collisions,
        });
        await duck.conn.run('CHECKPOINT');
      } finally {
        inspect.close();
        duck.close();
      }
      await this.#publish(temp);
    } catch (error) {
      await rm(temp, { force: true });
      await rm(`${temp}.wal`, { force: true });
      throw error;
    }
    const present = new Set([...listing.sources, ...listing.missing]);
    // Only sources that still have live rows: a source removed earlier must not add history every run.
    const live = previousStates.filter((s) => s.status !== 'removed').map((s) => s.source);
    const removedSources = [...new Set(live)].filter((s) => !present.has(s));
    await this.#applyState(outcomes, removedSources, previousStates, generation, report.finished_at);
    this.emit('generation', generation);
    return report;
  }

  /** What `extracts/` says about one source, without looking at the others' directories. */
  async #sourceEntry(
    name: string,
  ): Promise<{ state: 'present' | 'missing' | 'absent' | 'unusable'; listing: ExtractListing }> {
    const names = (await readdir(join(this.dataDir, 'extracts')).catch(() => [] as string[])).filter(
      isValidSourceName,
    );
    // Of two names differing only in case the first in byte order is published; a full run sorts it out.
    const shadowed = names.some(
      (n) => n !== name && n.toLowerCase() === name.toLowerCase() && byteOrder(n, name) < 0,
    );
    const info = await lstat(join(this.dataDir, 'extracts', name)).catch(() => null);
    let state: 'present' | 'missing' | 'absent' | 'unusable' = 'absent';
    if (info)
      state =
        shadowed || !info.isDirectory()
          ? 'unusable'
          : (await extractExists(this.dataDir, name))
            ? 'present'
            : 'missing';
    return {
      state,
      listing: {
        sources: state === 'present' ? [name] : [],
        missing: names.filter((n) => n !== name || state === 'missing'),
        skipped: [],
        exists: true,
      },
    };
  }

  async #runSource(name: string): Promise<RebuildReport> {
    const startedAt = this.#clock.now();
    const started = performance.now();
    const entry = await this.#sourceEntry(name);
    if (entry.state === 'unusable' || !(await lstat(this.analyticsPath).catch(() => null)))
      return this.#runFull(name);
    const previousStates = await this.#options.state.listSyncStates(name);
    const temp = this.#tempPath();
    let built: SourceBuild | 'escalate';
    try {
      await copyFile(this.analyticsPath, temp);
      built = await this.#buildInCopy(
        temp,
        name,
        entry.state,
        entry.listing,
        previousStates,
        startedAt,
        started,
      );
      if (built !== 'escalate') await this.#publish(temp);
    } catch (error) {
      await rm(temp, { force: true });
      await rm(`${temp}.wal`, { force: true });
      throw error;
    }
    if (built === 'escalate') {
      await rm(temp, { force: true });
      await rm(`${temp}.wal`, { force: true });
      return this.#runFull(name);
    }
    await this.#applyState(
      [built.outcome],
      [],
      previousStates,
      built.report.generation,
      built.report.finished_at,
    );
    this.emit('generation', built.report.generation);
    return built.report;
  }

  /**
   * Rebuilds one source inside a copy of the published file (02 §2.3). Views of other sources are
   * not re-bound, so their catalogs need not be attached. Returns `escalate` when only a full
   * rebuild gives the right result: the copy is unreadable, a name this source wins would change
   * a later source's view, or the source released a name another source lost earlier.
   */
  async #buildInCopy(
    temp: string,
    name: string,
    state: 'present' | 'missing' | 'absent',
    listing: ExtractListing,
    previousStates: SyncStateRecord[],
    startedAt: Date,
    started: number,
  ): Promise<SourceBuild | 'escalate'> {
    const duck = await openDuck(temp).catch(() => null);
    if (!duck) return 'escalate';
    const inspect = await openDuck();
    try {
      await this.#pause('opened');
      const catalog = String((await queryOne(duck.conn, 'SELECT current_database() AS db'))?.db);
      const build = await readBuildInfo(duck.conn, catalog).catch(() => null);
      if (!build) return 'escalate';
      const owners = await readViewOwners(duck.conn, catalog);
      const own = owners.filter((v) => v.source === name);
      for (const view of own) await duck.conn.run(`DROP VIEW IF EXISTS main.${quoteIdent(view.view_name)}`);
      await duck.conn.run('DELETE FROM _agnes_views WHERE source = $1', [name]);
      const session = this.#session(duck.conn, inspect.conn, previousStates, listing);
      for (const view of owners) {
        if (view.source !== name)
          session.published.set(view.table_id, { source: view.source, view: view.view_name });
      }
      for (const record of build.remote_attach) {
        if (record.source !== name) session.aliases.set(record.alias, { ...record, attached: false });
      }
      const outcome =
        state === 'present'
          ? await buildSource(session, name)
          : failedOutcome(name, {
              ...emptySourceReport(),
              status: state === 'missing' ? 'failed' : 'removed',
              reason: state === 'missing' ? 'missing_extract' : null,
            });
      await this.#pause(`source:${name}`);
      const publishedIds = new Set(outcome.published.map((p) => p.row.table_id));
      const releasesLostName = build.collisions.some((c) => c.kept === name && !publishedIds.has(c.table));
      if (outcome.needsFullRebuild || releasesLostName) return 'escalate';

      const generation = build.generation + 1;
      await insertViewMapRows(
        duck.conn,
        outcome.published.map((p) => p.row),
      );
      const report = runReport('source', name, null, startedAt, started, generation, [outcome], []);
      report.views = owners.length - own.length + outcome.published.length;
      report.collisions = [
        ...build.collisions.filter((c) => c.kept !== name && c.dropped !== name),
        ...outcome.collisions,
      ];
      await writeBuildInfo(duck.conn, {
        generation,
        built_at: report.finished_at,
        mode: 'source',
        report,
        remote_attach: [...build.remote_attach.filter((r) => r.source !== name), ...outcome.remoteAttach],
        collisions: report.collisions,
      });
      await duck.conn.run('CHECKPOINT');
      return { outcome, report };
    } finally {
      inspect.close();
      duck.close();
    }
  }

  async #publish(temp: string): Promise<void> {
    await rm(`${temp}.wal`, { force: true });
    await chmod(temp, FILE_MODE);
    await fsyncFile(temp);
    await this.#pause('closed');
    await rename(temp, this.analyticsPath);
    await fsyncDir(this.analyticsDir);
    await rm(`${this.analyticsPath}.wal`, { force: true });
    await this.#pause('renamed');
  }

  async #applyState(
    outcomes: SourceOutcome[],
    removedSources: string[],
    previous: SyncStateRecord[],
    generation: number,
    now: string,
  ): Promise<void> {
    const changes = computeStateChanges({ outcomes, removedSources, previous, generation, now, jobId: null });
    await this.#options.state.applyRebuild(changes);
  }
}
