import type { TestProject } from 'vitest/node';
import { openStateDb } from '../../src/core/state/db.js';
import { migrateToLatest } from '../../src/core/state/migrate.js';
import { adminQuery, POSTGRESQL, startPostgresCluster } from './postgres-cluster.js';
import { MissingToolError, resolveTool } from './system-tool.js';

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

/** The database every test database is copied from: migrated once per run. */
export const TEMPLATE_DATABASE = 'agnes_template';

async function migrateTemplate(url: string): Promise<void> {
  await adminQuery(url, `CREATE DATABASE ${TEMPLATE_DATABASE}`);
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
  const cluster = await startPostgresCluster(initdb);
  try {
    await migrateTemplate(cluster.url);
  } catch (error) {
    cluster.stop();
    throw error;
  }
  project.provide('postgresUrl', cluster.url);
  project.provide('postgresUnavailable', '');
  return () => cluster.stop();
}
