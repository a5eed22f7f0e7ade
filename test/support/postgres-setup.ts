import { spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { openStateDb } from '../../src/core/state/db.js';
import { migrateToLatest } from '../../src/core/state/migrate.js';
import { freePort } from './ports.js';
import { MissingToolError, resolveTool, type SystemTool } from './system-tool.js';

/**
 * Global setup of the `postgres` project, which runs the state store's contract suite a second
 * time on PostgreSQL (13 §2): finds Debian's PostgreSQL (installing it where the machine allows),
 * starts a throwaway cluster on a free loopback port with trust authentication, migrates a
 * template database each test copies, and removes the cluster at the end. Nothing here uses a
 * system service or an existing server.
 *
 * Without PostgreSQL a local run goes on: the tests of this project are reported as skipped, and
 * this setup prints once which and why. With `CI=true` (`.ci/run`) a missing PostgreSQL stops the
 * run instead, so CI never skips them.
 */

declare module 'vitest' {
  export interface ProvidedContext {
    /** `postgres://…/` of the test cluster (no database), or '' when it could not start. */
    postgresUrl: string;
    /** Why there is no test cluster ('' when there is one). */
    postgresUnavailable: string;
  }
}

/** Newest first; 15 is the first with `CREATE DATABASE … STRATEGY FILE_COPY`, which the tests use. */
const VERSIONS = ['18', '17', '16', '15'];

export const POSTGRESQL: SystemTool = {
  purpose: 'The PostgreSQL state-store tests need PostgreSQL',
  label: 'PostgreSQL',
  debianPackage: 'postgresql',
  envVar: 'POSTGRES_INITDB',
  candidates: VERSIONS.map((version) => `/usr/lib/postgresql/${version}/bin/initdb`),
};

/** The database every test database is copied from: migrated once per run. */
export const TEMPLATE_DATABASE = 'agnes_template';
const SUPERUSER = 'agnes';

interface Cluster {
  dir: string;
  data: string;
  bin: string;
  asOwner: string[];
}

/** PostgreSQL refuses to run as root; as root the cluster belongs to the `postgres` user. */
function clusterOwner(): { prefix: string[]; uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
  const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
  if (!Number.isInteger(uid) || uid <= 0)
    throw new MissingToolError(
      POSTGRESQL,
      'running as root, and there is no `postgres` user to own the cluster',
    );
  return { prefix: ['runuser', '-u', 'postgres', '--'], uid, gid };
}

function run(cluster: Cluster, program: string, args: string[]): void {
  const argv = [...cluster.asOwner, join(cluster.bin, program), ...args];
  const result = spawnSync(argv[0] as string, argv.slice(1), { encoding: 'utf8', timeout: 60_000 });
  if (result.status !== 0)
    throw new Error(`${program} failed: ${(result.stderr || result.stdout || String(result.error)).trim()}`);
}

async function startCluster(initdb: string): Promise<{ cluster: Cluster; url: string }> {
  const owner = clusterOwner();
  const dir = mkdtempSync(join(tmpdir(), 'agnes-postgres-'));
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const cluster: Cluster = {
    dir,
    data: join(dir, 'data'),
    bin: dirname(initdb),
    asOwner: owner?.prefix ?? [],
  };
  const port = await freePort();
  run(cluster, 'initdb', [
    '-D',
    cluster.data,
    '-U',
    SUPERUSER,
    '--auth=trust',
    '--encoding=UTF8',
    // A linguistic default collation, as production databases have (en_US.UTF-8 and the like):
    // the suite then shows that ordering does not depend on it.
    '--locale=C',
    '--locale-provider=icu',
    '--icu-locale=en-US',
    '--no-sync',
  ]);
  // Durability is of no use to a cluster deleted after the run; without it tests run faster.
  const settings = [
    `-p ${port}`,
    "-c listen_addresses='127.0.0.1'",
    `-c unix_socket_directories='${dir}'`,
    '-c max_connections=300',
    // Not UTC, as many servers are not: the store must not depend on the server's time zone.
    "-c timezone='America/New_York'",
    '-c fsync=off',
    '-c synchronous_commit=off',
    '-c full_page_writes=off',
  ].join(' ');
  run(cluster, 'pg_ctl', [
    'start',
    '-D',
    cluster.data,
    '-w',
    '-t',
    '60',
    '-l',
    join(dir, 'server.log'),
    '-o',
    settings,
  ]);
  return { cluster, url: `postgres://${SUPERUSER}@127.0.0.1:${port}/` };
}

function stopCluster(cluster: Cluster): void {
  try {
    run(cluster, 'pg_ctl', ['stop', '-D', cluster.data, '-m', 'immediate', '-w']);
  } finally {
    rmSync(cluster.dir, { recursive: true, force: true });
  }
}

async function migrateTemplate(url: string): Promise<void> {
  const admin = new pg.Client({ connectionString: `${url}postgres` });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${TEMPLATE_DATABASE}`);
  } finally {
    await admin.end();
  }
  const db = openStateDb('', { url: `${url}${TEMPLATE_DATABASE}`, poolSize: 1, connectTimeoutSeconds: 30 });
  try {
    await migrateToLatest(db);
  } finally {
    await db.destroy();
  }
}

export default async function setup(project: TestProject): Promise<(() => void) | undefined> {
  let initdb: string;
  try {
    initdb = resolveTool(POSTGRESQL);
  } catch (error) {
    if (!(error instanceof MissingToolError)) throw error;
    if (process.env.CI === 'true') {
      process.stderr.write(`\n${error.message}\nCI never skips the PostgreSQL tests.\n`);
      process.exit(1);
    }
    process.stderr.write(
      `\nSkipping every test of the "${project.name}" project (the state-store contract suite on PostgreSQL, test/core/state/**): ${error.message}\n`,
    );
    project.provide('postgresUrl', '');
    project.provide('postgresUnavailable', error.message);
    return undefined;
  }
  const { cluster, url } = await startCluster(initdb);
  try {
    await migrateTemplate(url);
  } catch (error) {
    stopCluster(cluster);
    throw error;
  }
  project.provide('postgresUrl', url);
  project.provide('postgresUnavailable', '');
  return () => stopCluster(cluster);
}
