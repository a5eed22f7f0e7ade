import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { BackupError } from '../../core/backup/manifest.js';
import { refuseIncompatible, restoreSnapshot } from '../../core/backup/restore.js';
import { writeSnapshot } from '../../core/backup/snapshot.js';
import { verifySnapshot } from '../../core/backup/verify.js';
import { PACKAGE_VERSION } from '../../core/package-info.js';
import { openStateDb, type PostgresStore, postgresStore, stateDbPath } from '../../core/state/db.js';
import { stateStoreInUse } from '../../core/state/in-use.js';
import { describeStore } from '../../core/state/postgres-pool.js';
import { type Instance, loadInstance, NO_SECRETS, openRuntime } from '../instance.js';

/** The store `DATABASE_URL` names, or none for the SQLite file under DATA_DIR. */
function postgresOf(instance: Instance): PostgresStore | undefined {
  return postgresStore(instance.loaded.config.state, instance.env.DATABASE_URL);
}

/** `agnes backup --out DIR [--include-extracts]` (13 §4): a consistent snapshot of the running instance. */
export async function backup(options: { out: string; includeExtracts: boolean }): Promise<number> {
  const instance = loadInstance({ logToStderr: true });
  const { dataDir, configPath } = instance.loaded;
  const postgres = postgresOf(instance);
  if (!postgres && !existsSync(stateDbPath(dataDir)))
    throw new BackupError(`no state store in ${dataDir}; nothing to back up`);
  const db = openStateDb(dataDir, postgres);
  try {
    const out = resolve(options.out);
    const manifest = await writeSnapshot({
      db,
      dataDir,
      out,
      configPath,
      includeExtracts: options.includeExtracts,
      agnesVersion: PACKAGE_VERSION,
    });
    const rows = Object.values(manifest.tables).reduce((sum, t) => sum + t.rows, 0);
    process.stdout.write(
      `wrote ${out}: schema version ${manifest.schema_version}, ${Object.keys(manifest.tables).length} tables, ${rows} rows, ${manifest.files.length} files\n`,
    );
    return 0;
  } finally {
    await db.destroy();
  }
}

/**
 * `agnes restore --from DIR [--force]` (13 §4). The snapshot is checked before the target is
 * opened, so a refused snapshot creates nothing, and a target another process has open (a running
 * server) is refused; the full rebuild at the end publishes `analytics/server.duckdb` from the
 * restored extracts.
 */
export async function restore(options: { from: string; force: boolean }): Promise<number> {
  const from = resolve(options.from);
  const manifest = await verifySnapshot(from);
  refuseIncompatible(manifest);
  const instance = loadInstance({ logToStderr: true });
  const { dataDir } = instance.loaded;
  const postgres = postgresOf(instance);
  if (await stateStoreInUse(dataDir, postgres))
    throw new BackupError(
      `the state store ${postgres ? `at ${describeStore(postgres.url)}` : `in ${dataDir}`} is open in another process; stop agnes serve (and any agnes command) on it first`,
    );
  const db = openStateDb(dataDir, postgres);
  try {
    await restoreSnapshot({ db, dataDir, from, manifest, force: options.force });
  } finally {
    await db.destroy();
  }
  const runtime = await openRuntime(instance, NO_SECRETS);
  try {
    const report = await runtime.orchestrator.rebuild();
    const failed = Object.entries(report.sources).filter(([, s]) => s.status === 'failed');
    process.stdout.write(
      `restored ${from} into ${dataDir}: generation ${report.generation}, ${report.views} views\n`,
    );
    for (const [name, source] of failed)
      process.stderr.write(
        `agnes: rebuild of source ${name} failed${source.reason ? `: ${source.reason}` : ''}\n`,
      );
    return failed.length > 0 ? 1 : 0;
  } finally {
    await runtime.close();
  }
}
