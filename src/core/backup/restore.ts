import { mkdir, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { EXTRACT_FILE } from '../extract/contract.js';
import { DIR_MODE, FILE_MODE, SECRET_MODE } from '../fs/atomic.js';
import type { StateDb } from '../state/db.js';
import { latestSchemaVersion, migrateToLatest, migrateToVersion } from '../state/migrate.js';
import { STATE_TABLES } from '../state/tables.js';
import { repointViews, sourceNames } from './extracts.js';
import { copyHashed } from './files.js';
import { BackupError, CONFIG_FILE, type Manifest } from './manifest.js';
import { clearStore, holdsUsers, loadTables } from './store.js';

export interface RestoreOptions {
  /** The target state store. */
  db: StateDb;
  /** The target DATA_DIR. */
  dataDir: string;
  /** The snapshot directory, already checked by `verifySnapshot`. */
  from: string;
  manifest: Manifest;
  /** Replace a store that holds users and the target's extracts. */
  force: boolean;
}

/**
 * What can be known of a snapshot's fit before the target is touched: no newer schema (there is
 * no downgrade), no table this version has never had, and at the current version exactly the
 * current tables.
 */
export function refuseIncompatible(manifest: Manifest, latest: number = latestSchemaVersion()): void {
  if (manifest.schema_version > latest)
    throw new BackupError(
      `the snapshot has schema version ${manifest.schema_version}, newer than this version's ${latest}; restore it with agnes ${manifest.agnes_version} or later`,
    );
  const listed = Object.keys(manifest.tables);
  const unknown = listed.filter((t) => !(STATE_TABLES as readonly string[]).includes(t));
  if (unknown.length > 0) throw new BackupError(`manifest.json: unknown state table ${unknown.join(', ')}`);
  const missing = STATE_TABLES.filter((t) => !listed.includes(t));
  if (manifest.schema_version === latest && missing.length > 0)
    throw new BackupError(`manifest.json: state table ${missing.join(', ')} missing`);
}

async function refuseOccupiedTarget(options: RestoreOptions): Promise<void> {
  if (options.force) return;
  if (await holdsUsers(options.db))
    throw new BackupError('the target state store holds users; pass --force to replace everything in it');
  if ((await sourceNames(join(options.dataDir, 'extracts'))).length > 0)
    throw new BackupError('the target DATA_DIR has extracts; pass --force to replace them');
}

/**
 * Restores a verified snapshot into the target (13 §4): the store is emptied, migrated to the
 * snapshot's schema version, loaded in one transaction and migrated to the latest; then the secret
 * files, the extracts (views re-pointed at the target) and the snapshot's config for comparison.
 * The caller runs the full rebuild afterwards.
 */
export async function restoreSnapshot(options: RestoreOptions): Promise<void> {
  const { db, manifest } = options;
  refuseIncompatible(manifest);
  await refuseOccupiedTarget(options);
  await clearStore(db);
  await migrateToVersion(db, manifest.schema_version);
  await loadTables(db, options.from, manifest);
  await migrateToLatest(db);
  await restoreSecrets(options);
  await restoreExtracts(options);
  await restoreConfig(options);
}

/** Copies a snapshot file to the target, checking it again as it goes (the folder may have changed). */
async function restoreFile(options: RestoreOptions, path: string, to: string, mode: number): Promise<void> {
  const listed = options.manifest.files.find((f) => f.path === path);
  if (!listed) return;
  await rm(to, { force: true });
  const copied = await copyHashed(join(options.from, path), to, mode);
  if (copied.sha256 !== listed.sha256) throw new BackupError(`${path}: changed while being restored`);
}

async function restoreSecrets(options: RestoreOptions): Promise<void> {
  for (const file of options.manifest.files.filter((f) => f.path.startsWith('secrets/')))
    await restoreFile(
      options,
      file.path,
      join(options.dataDir, 'state', file.path.slice('secrets/'.length)),
      SECRET_MODE,
    );
}

/** The live AGNES_CONFIG is never overwritten: the operator compares and adopts by hand. */
async function restoreConfig(options: RestoreOptions): Promise<void> {
  if (!options.manifest.files.some((f) => f.path === CONFIG_FILE)) return;
  await mkdir(join(options.dataDir, 'restore'), { recursive: true, mode: DIR_MODE });
  await restoreFile(options, CONFIG_FILE, join(options.dataDir, 'restore', 'instance.yaml'), SECRET_MODE);
}

/**
 * Builds the new `extracts/` beside the old one, swaps it in, then re-points its views. A snapshot
 * without extracts leaves the target's alone unless `--force` (which replaces them with none).
 */
async function restoreExtracts(options: RestoreOptions): Promise<void> {
  const files = options.manifest.files.filter((f) => f.path.startsWith('extracts/'));
  if (files.length === 0 && !options.force) return;
  const dataDir = resolve(options.dataDir);
  const target = join(dataDir, 'extracts');
  const staging = `${target}.restoring`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true, mode: DIR_MODE });
  try {
    for (const file of files)
      await restoreFile(options, file.path, join(staging, file.path.slice('extracts/'.length)), FILE_MODE);
    await rm(target, { recursive: true, force: true });
    await rename(staging, target);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
  // In place: DuckDB binds a view as it creates it, so its files must be where it will read them.
  for (const source of await sourceNames(target)) {
    const extract = join(target, source, EXTRACT_FILE);
    if (!files.some((f) => f.path === `extracts/${source}/${EXTRACT_FILE}`)) continue;
    await repointViews(extract, source, join(target, source));
    await rm(`${extract}.wal`, { force: true });
  }
}
