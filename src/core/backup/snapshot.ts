import { existsSync } from 'node:fs';
import { lstat, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DIR_MODE, fsyncDir, fsyncFile, SECRET_MODE } from '../fs/atomic.js';
import { type StateDb, stateDialect } from '../state/db.js';
import { copyExtracts } from './extracts.js';
import { copyHashed } from './files.js';
import {
  BackupError,
  CONFIG_FILE,
  FORMAT_VERSION,
  MANIFEST_FILE,
  type Manifest,
  type ManifestFile,
  renderManifest,
  SECRET_FILES,
} from './manifest.js';
import { dumpTables } from './store.js';

export interface BackupOptions {
  db: StateDb;
  dataDir: string;
  /** The snapshot directory to create; it must not exist. */
  out: string;
  /** The instance.yaml in use, copied as `config/instance.yaml`; null when there is none. */
  configPath: string | null;
  includeExtracts: boolean;
  agnesVersion: string;
  /** How long to wait for a source's write lock (an extract being written). */
  lockWaitMs?: number;
  now?: () => Date;
}

/**
 * Writes a consistent snapshot of a running instance (13 §4) into `out.tmp`, then renames it to
 * `out`. Whatever fails, neither `out` nor `out.tmp` is left.
 */
export async function writeSnapshot(options: BackupOptions): Promise<Manifest> {
  const { out } = options;
  const tmp = `${out}.tmp`;
  for (const path of [out, tmp])
    if (await lstat(path).catch(() => null))
      throw new BackupError(`${path} already exists; choose a new --out`);
  await mkdir(dirname(out), { recursive: true, mode: DIR_MODE });
  await mkdir(join(tmp, 'state'), { recursive: true, mode: 0o700 });
  try {
    const manifest = await writeContents(options, tmp);
    const manifestPath = join(tmp, MANIFEST_FILE);
    await writeFile(manifestPath, renderManifest(manifest), { mode: SECRET_MODE, flag: 'wx' });
    await fsyncFile(manifestPath);
    await rename(tmp, out);
    await fsyncDir(dirname(out));
    return manifest;
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    throw error;
  }
}

async function writeContents(options: BackupOptions, tmp: string): Promise<Manifest> {
  const createdAt = (options.now?.() ?? new Date()).toISOString();
  const dump = await dumpTables(options.db, tmp);
  const files: ManifestFile[] = [];
  if (options.configPath)
    files.push({
      path: CONFIG_FILE,
      ...(await copyHashed(options.configPath, join(tmp, CONFIG_FILE), SECRET_MODE)),
    });
  for (const name of SECRET_FILES) {
    const from = join(options.dataDir, 'state', name);
    if (!existsSync(from)) continue;
    await mkdir(join(tmp, 'secrets'), { recursive: true, mode: 0o700 });
    files.push({
      path: `secrets/${name}`,
      ...(await copyHashed(from, join(tmp, 'secrets', name), SECRET_MODE)),
    });
  }
  if (options.includeExtracts)
    files.push(...(await copyExtracts(options.dataDir, tmp, options.lockWaitMs ?? 600_000)));
  return {
    format_version: FORMAT_VERSION,
    agnes_version: options.agnesVersion,
    schema_version: dump.schemaVersion,
    dialect: stateDialect(options.db),
    created_at: createdAt,
    tables: dump.tables,
    files,
  };
}
