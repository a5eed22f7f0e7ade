import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { type Kysely, sql } from 'kysely';
import { fsyncFile, SECRET_MODE } from '../fs/atomic.js';
import { type StateDb, stateDialect } from '../state/db.js';
import { EPHEMERAL_TABLES, STATE_TABLES } from '../state/tables.js';
import { BackupError, type Manifest, tableFile } from './manifest.js';
import { parseRow, portableRow, storeRow } from './rows.js';

/**
 * The state store's side of a snapshot, through Kysely: the same code dumps and loads SQLite and
 * PostgreSQL, except reading a table page by page and emptying the store (`tableRows`,
 * `dropFunctions`). Table names come from introspection checked against `STATE_TABLES`, never
 * from the snapshot alone.
 */

/** Any table by name: the dump and load see rows, not the typed schema. */
type Rows = Kysely<Record<string, Record<string, unknown>>>;

const ORDER = new Map<string, number>(STATE_TABLES.map((name, i) => [name, i]));

const EPHEMERAL = new Set<string>(EPHEMERAL_TABLES);

/**
 * The state tables the store holds, in load order, ephemeral ones left out; a table neither list
 * knows is an error.
 */
async function storedTables(db: StateDb): Promise<string[]> {
  const tables = (await db.introspection.getTables())
    .filter((t) => !t.isView && !EPHEMERAL.has(t.name))
    .map((t) => t.name);
  const unknown = tables.filter((name) => !ORDER.has(name));
  if (unknown.length > 0)
    throw new BackupError(
      `state table ${unknown.join(', ')} is not in STATE_TABLES; this version cannot copy it`,
    );
  return tables.sort((a, b) => ORDER.get(a)! - ORDER.get(b)!);
}

export interface StateDump {
  schemaVersion: number;
  tables: Manifest['tables'];
}

/**
 * Writes every state table as `state/<table>.ndjson` under `dir` from one read transaction: on
 * SQLite (WAL) the first read fixes the snapshot every later read sees, while the server goes on
 * writing; PostgreSQL gets the same from `REPEATABLE READ`. Rows are streamed, never held whole.
 */
export async function dumpTables(db: StateDb, dir: string): Promise<StateDump> {
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .execute(async (trx) => {
      const version = await trx.selectFrom('schema_version').select('version').executeTakeFirst();
      if (!version) throw new BackupError('the state store has no schema version; run `agnes migrate` first');
      const tables: Manifest['tables'] = {};
      for (const table of await storedTables(trx))
        tables[table] = await dumpTable(trx as unknown as Rows, table, dir);
      return { schemaVersion: version.version, tables };
    });
}

async function dumpTable(db: Rows, table: string, dir: string): Promise<{ rows: number; sha256: string }> {
  const path = join(dir, tableFile(table));
  const out = createWriteStream(path, { mode: SECRET_MODE, flags: 'wx' });
  const hash = createHash('sha256');
  let rows = 0;
  try {
    for await (const row of tableRows(db, table)) {
      const line = `${JSON.stringify(portableRow(row))}\n`;
      hash.update(line);
      rows += 1;
      if (!out.write(line)) await once(out, 'drain');
    }
  } finally {
    await new Promise<void>((resolve, reject) =>
      out.end((error?: Error | null) => (error ? reject(error) : resolve())),
    );
  }
  await fsyncFile(path);
  return { rows, sha256: hash.digest('hex') };
}

/** Rows read from a table at a time while dumping it. */
const PAGE_ROWS = 500;

/**
 * A table's rows, a page at a time, inside the dump's transaction. Kysely streams PostgreSQL
 * only through pg-cursor; a cursor declared in SQL reads the same snapshot without it.
 */
async function* tableRows(db: Rows, table: string): AsyncGenerator<Record<string, unknown>> {
  if (stateDialect(db) === 'sqlite') {
    yield* db.selectFrom(table).selectAll().stream(PAGE_ROWS);
    return;
  }
  const cursor = sql.id(`backup_${table}`);
  await sql`DECLARE ${cursor} NO SCROLL CURSOR FOR SELECT * FROM ${sql.table(table)}`.execute(db);
  for (;;) {
    const page = await sql<
      Record<string, unknown>
    >`FETCH ${sql.raw(String(PAGE_ROWS))} FROM ${cursor}`.execute(db);
    if (page.rows.length === 0) break;
    yield* page.rows;
  }
  await sql`CLOSE ${cursor}`.execute(db);
}

/** Whether the store holds any user: a restore over one needs `--force`. */
export async function holdsUsers(db: StateDb): Promise<boolean> {
  const tables = await db.introspection.getTables();
  if (!tables.some((t) => t.name === 'users')) return false;
  return (await db.selectFrom('users').select('id').limit(1).executeTakeFirst()) !== undefined;
}

/**
 * Drops every table, Kysely's ledger included, children first, and on PostgreSQL the trigger
 * functions migrations created, in one transaction: the store is then as empty as a new one, so it
 * can be migrated to a snapshot's older schema version.
 */
export async function clearStore(db: StateDb): Promise<void> {
  const tables = (await db.introspection.getTables({ withInternalKyselyTables: true }))
    .filter((t) => !t.isView)
    .map((t) => t.name)
    .sort((a, b) => (ORDER.get(b) ?? -1) - (ORDER.get(a) ?? -1));
  await db.transaction().execute(async (trx) => {
    for (const table of tables) await trx.schema.dropTable(table).ifExists().execute();
    if (stateDialect(trx) === 'postgres') await dropFunctions(trx);
  });
}

/**
 * Every function of the store's schema except an extension's: the migrations' trigger functions
 * (0002) outlive their tables, and creating them again would fail.
 */
async function dropFunctions(db: StateDb): Promise<void> {
  const functions = await sql<{ signature: string }>`
    SELECT p.oid::regprocedure::text AS signature
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = current_schema()
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')`.execute(db);
  for (const { signature } of functions.rows) await sql`DROP FUNCTION ${sql.raw(signature)}`.execute(db);
}

/** Rows per INSERT, kept well under every dialect's bound-parameter limit. */
const PARAMETERS_PER_INSERT = 10_000;

/**
 * Loads every table of a verified snapshot in one transaction, parents first, into a store
 * migrated to the snapshot's schema version. Rows a migration seeded are deleted first; the
 * store's tables must be exactly the snapshot's.
 */
export async function loadTables(db: StateDb, dir: string, manifest: Manifest): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const tables = await storedTables(trx);
    const listed = Object.keys(manifest.tables);
    const missing = listed.filter((t) => !tables.includes(t));
    const absent = tables.filter((t) => !listed.includes(t));
    if (missing.length > 0 || absent.length > 0)
      throw new BackupError(
        `the snapshot's tables do not match schema version ${manifest.schema_version}: ${[
          ...missing.map((t) => `${t} not in the schema`),
          ...absent.map((t) => `${t} not in the snapshot`),
        ].join(', ')}`,
      );
    const rows = trx as unknown as Rows;
    for (const table of [...tables].reverse()) await rows.deleteFrom(table).execute();
    for (const table of tables) {
      const loaded = await loadTable(rows, table, join(dir, tableFile(table)));
      if (loaded !== manifest.tables[table]!.rows)
        throw new BackupError(
          `${tableFile(table)}: loaded ${loaded} rows, manifest.json says ${manifest.tables[table]!.rows}`,
        );
    }
  });
}

async function loadTable(db: Rows, table: string, path: string): Promise<number> {
  let batch: Record<string, unknown>[] = [];
  let limit = 1;
  let count = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    try {
      await db.insertInto(table).values(batch).execute();
    } catch (error) {
      throw new BackupError(`${tableFile(table)}: ${error instanceof Error ? error.message : String(error)}`);
    }
    batch = [];
  };
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of lines) {
    count += 1;
    const row = parseRow(line);
    if (!row) throw new BackupError(`${tableFile(table)}: line ${count} is not a JSON object`);
    if (batch.length === 0)
      limit = Math.max(1, Math.floor(PARAMETERS_PER_INSERT / Math.max(1, Object.keys(row).length)));
    batch.push(storeRow(row));
    if (batch.length >= limit) await flush();
  }
  await flush();
  return count;
}
