import { access, mkdir, rm, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { HealthDetailed, Manifest } from '../../contract/index.js';
import { queryRows } from '../../core/duckdb/engine.js';
import { quoteIdent } from '../../core/duckdb/sql.js';
import { type Check, fail, pass, reportChecks, warn } from '../checks.js';
import type { ApiClient } from '../client.js';
import { type CliContext, connect } from '../context.js';
import { CliError } from '../errors.js';
import { bytesToDownload, localState, probeHealth, whoIsSignedIn } from '../inspect.js';
import { openLocalDb } from '../local-db.js';
import { layoutOf } from '../sync/paths.js';
import type { SyncState } from '../sync/state.js';

const EXPIRY_WARNING_DAYS = 14;
const CLOCK_SKEW_WARNING_MS = 5 * 60_000;
const MIB = 1024 * 1024;

async function localDirWritable(dir: string): Promise<Check> {
  const probe = join(dir, `.da-write-test-${process.pid}`);
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(probe, '');
    await rm(probe);
    return pass('local_dir_writable', dir);
  } catch {
    return fail('local_dir_writable', `cannot write to ${dir}`, 'pick a writable directory with --local-dir');
  }
}

async function diskSpace(dir: string, needed: number | null): Promise<Check> {
  const info = await statfs(dir).catch(() => null);
  if (!info) return warn('disk_space', 'free space could not be read');
  const free = info.bavail * info.bsize;
  const detail = `${Math.round(free / MIB)} MiB free${needed === null ? '' : `, ${Math.round(needed / MIB)} MiB still to download`}`;
  if (needed !== null && free < 2 * needed)
    return fail('disk_space', detail, 'free up disk space (twice the download size is needed)');
  return pass('disk_space', detail);
}

/** The local DB opens, and every view `da sync` manages still binds to its Parquet files. */
async function localDb(dbPath: string): Promise<Check> {
  try {
    await access(dbPath);
  } catch {
    return warn('local_db', 'no local database yet', 'run: da sync');
  }
  let duck: Awaited<ReturnType<typeof openLocalDb>>;
  try {
    duck = await openLocalDb(dbPath);
  } catch (error) {
    return fail('local_db', (error as Error).message, 'close other programs using the database and retry');
  }
  try {
    const managed = await queryRows<{ view_name: string }>(
      duck.conn,
      'SELECT view_name FROM _da_views',
    ).catch(() => []);
    const broken: string[] = [];
    for (const { view_name } of managed) {
      await duck.conn
        .run(`SELECT * FROM ${quoteIdent(view_name)} LIMIT 0`)
        .catch(() => broken.push(view_name));
    }
    if (broken.length > 0)
      return fail('local_db', `views that no longer read: ${broken.join(', ')}`, 'run: da sync --verify');
    return pass('local_db', `${managed.length} views bind`);
  } finally {
    duck.close();
  }
}

async function serverChecks(client: ApiClient, hasToken: boolean, checks: Check[]) {
  const health = await probeHealth(client);
  if (!health.reachable) {
    checks.push(
      fail('server_health', health.error ?? 'unreachable', 'check the server URL and your network'),
    );
    return null;
  }
  checks.push(
    health.status === 'healthy'
      ? pass('server_health', `healthy, version ${health.version}`)
      : health.status === 'degraded'
        ? warn(
            'server_health',
            `degraded, version ${health.version}`,
            'ask an administrator to check the server',
          )
        : fail('server_health', `${health.status}`, 'ask an administrator to check the server'),
  );
  if (!hasToken) {
    checks.push(fail('credentials', 'no credential for this server', 'run: da auth login'));
    return null;
  }
  const me = await whoIsSignedIn(client, true);
  if (!me) {
    checks.push(fail('credentials', 'the token was refused (expired or revoked)', 'run: da auth login'));
    return null;
  }
  const expires = me.auth.expires_at;
  checks.push(
    expires && Date.parse(expires) - Date.now() < EXPIRY_WARNING_DAYS * 86_400_000
      ? warn('credentials', `${me.email}; token expires ${expires.slice(0, 10)}`, 'run: da auth login')
      : pass('credentials', `${me.email} (role ${me.role})`),
  );
  const response = await client.request<Manifest>('GET', '/api/sync/manifest');
  const manifest = response.body;
  checks.push(
    pass('manifest', `${Object.keys(manifest.tables).length} tables, generation ${manifest.generation}`),
  );
  const detailed = await client.json<HealthDetailed>('GET', '/api/health/detailed');
  const stale = detailed.services.data.stale_tables;
  checks.push(
    stale.length > 0
      ? warn('stale_tables', stale.join(', '), 'ask an administrator to run: da admin sync')
      : pass('stale_tables', 'none'),
  );
  const serverTime = Date.parse(response.headers.get('date') ?? manifest.server_time);
  const skew = Math.abs(Date.now() - serverTime);
  checks.push(
    skew > CLOCK_SKEW_WARNING_MS
      ? warn('clock_skew', `${Math.round(skew / 1000)} s`, 'synchronise the system clock')
      : pass('clock_skew', `${Math.round(skew / 1000)} s`),
  );
  return manifest;
}

/** `da diagnose` (06 §5.2 data): each check pass/warn/fail with an action; exit 1 when any fails. */
export async function diagnose(ctx: CliContext): Promise<number> {
  const checks: Check[] = [];
  let manifest: Manifest | null = null;
  let state: SyncState | null = null;
  try {
    const { server, client, credential } = await connect(ctx);
    checks.push(pass('config', `server ${server}`));
    state = await localState(ctx, server);
    manifest = await serverChecks(client, Boolean(ctx.env.DA_TOKEN || credential), checks);
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    checks.push(
      checks.length === 0
        ? fail('config', error.message)
        : fail('server', error.message, 'run: da diagnose --verbose'),
    );
  }
  checks.push(await localDirWritable(ctx.localDir));
  checks.push(await diskSpace(ctx.localDir, manifest && state ? bytesToDownload(manifest, state) : null));
  checks.push(await localDb(layoutOf(ctx.localDir).dbPath));
  return reportChecks(ctx, checks);
}
