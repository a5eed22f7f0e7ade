import { spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { freePort } from './ports.js';
import { MissingToolError, resolveTool, type SystemTool } from './system-tool.js';

/**
 * A throwaway PostgreSQL cluster for tests and benchmarks: Debian's binaries (installed with
 * apt-get where the machine allows), `initdb` in a temporary directory, trust authentication on a
 * free loopback port, owned by the `postgres` user when run as root (PostgreSQL refuses root).
 * Never a system service or an existing server.
 */

/** Newest first; 15 is the first with `CREATE DATABASE … STRATEGY FILE_COPY`, which the tests use. */
const VERSIONS = ['18', '17', '16', '15'];

export const POSTGRESQL: SystemTool = {
  purpose: 'The PostgreSQL state-store tests need PostgreSQL',
  label: 'PostgreSQL',
  debianPackage: 'postgresql',
  envVar: 'POSTGRES_INITDB',
  candidates: VERSIONS.map((version) => `/usr/lib/postgresql/${version}/bin/initdb`),
};

const SUPERUSER = 'agnes';

interface Cluster {
  dir: string;
  data: string;
  bin: string;
  asOwner: string[];
}

export interface PostgresCluster {
  /** `postgres://agnes@127.0.0.1:PORT/`: append a database name. */
  url: string;
  /** Stops the server and deletes the cluster. */
  stop(): void;
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

/** Starts a cluster with the `initdb` given, or the one `resolveTool(POSTGRESQL)` finds or installs. */
export async function startPostgresCluster(initdb = resolveTool(POSTGRESQL)): Promise<PostgresCluster> {
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
  try {
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
  } catch (error) {
    // Whatever part started goes again: a failed start leaves no server and no directory behind.
    stopCluster(cluster, { ignoreFailure: true });
    throw error;
  }
  return { url: `postgres://${SUPERUSER}@127.0.0.1:${port}/`, stop: () => stopCluster(cluster) };
}

function stopCluster(cluster: Cluster, options: { ignoreFailure?: boolean } = {}): void {
  try {
    run(cluster, 'pg_ctl', ['stop', '-D', cluster.data, '-m', 'immediate', '-w']);
  } catch (error) {
    if (!options.ignoreFailure) throw error;
  } finally {
    rmSync(cluster.dir, { recursive: true, force: true });
  }
}

/** Runs one statement (CREATE or DROP DATABASE) on the cluster's maintenance database. */
export async function adminQuery(url: string, statement: string): Promise<void> {
  const admin = new pg.Client({ connectionString: `${url}postgres` });
  await admin.connect();
  try {
    await admin.query(statement);
  } finally {
    await admin.end();
  }
}
