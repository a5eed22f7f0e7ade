import { lstat, readdir, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { openDuck } from '../duckdb/engine.js';
import type { ParseNode } from '../duckdb/parse-tree.js';
import { quoteIdent, quoteLiteral } from '../duckdb/sql.js';
import { TEMP_FILE_PATTERN } from '../fs/atomic.js';
import { isValidSourceName } from '../ids.js';
import { DATA_DIR_NAME, EXTRACT_FILE, INTERNAL_TABLES, type MetaRow } from './contract.js';
import { type ExtractContents, readAttachedExtract } from './read.js';
import { type AttachRemote, attachRemoteCatalog } from './remote-attach.js';
import { checkFilesRow, checkMetaValues, checkRemoteAttach, checkTableName } from './rules.js';
import { inspectLocalView, inspectRemoteView, parseViews } from './view-files.js';

export type RuleCode =
  | 'V1'
  | 'V2'
  | 'V3'
  | 'V4'
  | 'V5'
  | 'V6'
  | 'V7'
  | 'V8'
  | 'V9'
  | 'V10'
  | 'V11'
  | 'V12'
  | 'V13';

export interface Finding {
  code: RuleCode;
  table?: string;
  message: string;
}

export interface ValidationResult {
  ok: boolean;
  errors: Finding[];
  warnings: Finding[];
}

export interface ValidateOptions {
  attachRemote?: AttachRemote;
  env?: NodeJS.ProcessEnv;
  now?: Date;
  installExtensions?: boolean;
}

const ALIAS = 'validated_extract';
const FUTURE_TOLERANCE_MS = 5 * 60 * 1000;
const STALE_TEMP_MS = 60 * 60 * 1000;

class Findings {
  readonly errors: Finding[] = [];
  readonly warnings: Finding[] = [];
  error(code: RuleCode, message: string, table?: string): void {
    this.errors.push(table === undefined ? { code, message } : { code, table, message });
  }
  warn(code: RuleCode, message: string, table?: string): void {
    this.warnings.push(table === undefined ? { code, message } : { code, table, message });
  }
  result(): ValidationResult {
    return { ok: this.errors.length === 0, errors: this.errors, warnings: this.warnings };
  }
}

/** Checks one source directory against every rule of the extract contract (02 §1.7). */
export async function validateExtract(
  sourceDir: string,
  options: ValidateOptions = {},
): Promise<ValidationResult> {
  const dir = resolve(sourceDir);
  const findings = new Findings();
  const name = basename(dir);
  const info = await lstat(dir).catch(() => null);
  if (!info) {
    findings.error('V1', 'source directory does not exist');
    return findings.result();
  }
  if (info.isSymbolicLink()) findings.error('V1', 'source directory is a symlink');
  else if (!info.isDirectory()) findings.error('V1', 'source path is not a directory');
  if (!isValidSourceName(name)) {
    findings.error('V1', 'directory name does not match ^[a-zA-Z_][a-zA-Z0-9_]{0,63}$ or is a reserved name');
  }

  await checkTempLeftovers(dir, options.now ?? new Date(), findings);
  const extractPath = join(dir, EXTRACT_FILE);
  if (!(await stat(extractPath).catch(() => null))?.isFile()) {
    findings.error('V2', 'extract.duckdb is missing');
    return findings.result();
  }
  const session = await openDuck(':memory:');
  try {
    try {
      await session.conn.run(`ATTACH ${quoteLiteral(extractPath)} AS ${ALIAS} (READ_ONLY)`);
    } catch {
      findings.error('V2', 'extract.duckdb does not open as a DuckDB database');
      return findings.result();
    }
    let contents: ExtractContents;
    try {
      contents = await readAttachedExtract(session.conn, ALIAS);
    } catch {
      // A truncated file can pass ATTACH (the header is intact) and fail on the first read.
      findings.error('V2', 'extract.duckdb cannot be read as a DuckDB database');
      return findings.result();
    }
    if (contents.metaProblem) {
      findings.error('V3', contents.metaProblem);
      return findings.result();
    }
    const attached = await checkRemoteAttachTable(session.conn, contents, options, findings);
    await checkRows(session.conn, contents, join(dir, DATA_DIR_NAME), attached, options, findings);
    await checkFiles(contents, join(dir, DATA_DIR_NAME), findings);
    checkExtraObjects(contents, findings);
  } finally {
    session.close();
  }
  return findings.result();
}

/** V9; attaches the valid remote catalogs it can, so remote views can be bound (V7). */
async function checkRemoteAttachTable(
  conn: DuckDBConnection,
  contents: ExtractContents,
  options: ValidateOptions,
  findings: Findings,
): Promise<Map<string, string>> {
  const declared = new Map<string, string>();
  if (!contents.hasRemoteAttach) return declared;
  if (contents.remoteAttachProblem) {
    findings.error('V9', contents.remoteAttachProblem);
    return declared;
  }
  const env = options.env ?? process.env;
  for (const row of contents.remoteAttach) {
    const problem = checkRemoteAttach(row);
    if (problem) {
      findings.error('V9', `_remote_attach ${row.alias ?? '(null)'}: ${problem}`);
      continue;
    }
    declared.set(row.alias, row.extension);
    if (row.token_env && !env[row.token_env]) {
      findings.warn(
        'V7',
        `remote catalog ${row.alias} not attached: ${row.token_env} is not set; its views were not bound`,
      );
      declared.set(row.alias, `!${row.extension}`);
      continue;
    }
    try {
      const token = row.token_env ? (env[row.token_env] ?? null) : null;
      await (options.attachRemote ?? attachRemoteCatalog)(
        conn,
        { alias: row.alias, extension: row.extension, url: row.url, token },
        {
          installExtensions: options.installExtensions ?? false,
        },
      );
    } catch {
      findings.warn('V7', `remote catalog ${row.alias} could not be attached; its views were not bound`);
      declared.set(row.alias, `!${row.extension}`);
    }
  }
  return declared;
}

async function checkRows(
  conn: DuckDBConnection,
  contents: ExtractContents,
  dataDir: string,
  declared: Map<string, string>,
  options: ValidateOptions,
  findings: Findings,
): Promise<void> {
  const seen = new Set<string>();
  const now = (options.now ?? new Date()).getTime();
  const names = [...contents.views.keys()];
  const parsedList = await parseViews(
    conn,
    names.map((n) => contents.views.get(n)!),
  );
  const parsed = new Map(names.map((n, i) => [n, parsedList[i] ?? null]));
  const aliases = new Map([...declared].map(([alias, ext]) => [alias, ext.replace(/^!/, '')]));
  for (const row of contents.meta) {
    const table = row.table_name;
    const nameProblem = checkTableName(table);
    if (nameProblem) {
      findings.error('V4', `table name ${nameProblem}`, table);
      continue;
    }
    if (seen.has(table.toLowerCase())) {
      findings.error('V4', 'table name is not unique (case-insensitively)', table);
      continue;
    }
    seen.add(table.toLowerCase());
    const valueProblem = checkMetaValues(row);
    if (valueProblem) findings.error('V5', valueProblem, table);
    if (row.extracted_at && Date.parse(row.extracted_at) > now + FUTURE_TOLERANCE_MS) {
      findings.warn('V6', 'extracted_at is more than 5 minutes in the future', table);
    }
    if (!contents.views.has(table)) {
      const isTable = contents.baseTables.includes(table);
      findings.error(
        'V7',
        isTable ? 'is a base table; published tables must be views' : 'has no view of the same name',
        table,
      );
      continue;
    }
    if (row.query_mode === 'remote') {
      await checkRemoteRow(conn, row, parsed.get(table) ?? null, aliases, declared, findings);
    } else if (row.query_mode === 'local') {
      await bindView(conn, table, findings);
      await checkLocalRow(row, parsed.get(table) ?? null, dataDir, findings);
    }
  }
}

async function bindView(conn: DuckDBConnection, table: string, findings: Findings): Promise<void> {
  try {
    await conn.run(`SELECT * FROM ${ALIAS}.main.${quoteIdent(table)} LIMIT 0`);
  } catch {
    findings.error('V7', 'view does not bind (SELECT * … LIMIT 0 fails)', table);
  }
}

async function checkLocalRow(
  row: MetaRow,
  statements: ParseNode[] | null,
  dataDir: string,
  findings: Findings,
): Promise<void> {
  const inspection = await inspectLocalView(statements, dataDir);
  if (!inspection.ok) {
    findings.error('V8', inspection.problem, row.table_name);
    return;
  }
  if (inspection.kind !== 'local') return;
  let total = 0;
  for (const file of inspection.files) {
    const info = await stat(file).catch(() => null);
    // A missing file is already reported by the bind check (V7).
    if (!info) return;
    total += info.size;
  }
  if (row.size_bytes !== null && row.size_bytes !== total) {
    findings.error(
      'V8',
      `size_bytes ${row.size_bytes} differs from the files' total ${total}`,
      row.table_name,
    );
  }
}

async function checkRemoteRow(
  conn: DuckDBConnection,
  row: MetaRow,
  statements: ParseNode[] | null,
  aliases: Map<string, string>,
  declared: Map<string, string>,
  findings: Findings,
): Promise<void> {
  const inspection = inspectRemoteView(statements, aliases);
  if (!inspection.ok) {
    findings.error('V10', inspection.problem, row.table_name);
    return;
  }
  if (inspection.kind !== 'remote') return;
  const bindable = inspection.aliases.every((alias) => {
    const ext = declared.get(alias);
    return ext !== undefined && !ext.startsWith('!');
  });
  if (bindable) await bindView(conn, row.table_name, findings);
}

async function checkFiles(contents: ExtractContents, dataDir: string, findings: Findings): Promise<void> {
  if (!contents.hasFiles) return;
  if (contents.filesProblem) {
    findings.error('V11', contents.filesProblem);
    return;
  }
  const localTables = new Set(contents.meta.filter((m) => m.query_mode === 'local').map((m) => m.table_name));
  const withFiles = new Set<string>();
  for (const row of contents.files) {
    const problem = checkFilesRow(row);
    if (problem) {
      findings.error('V11', `_files ${row.path}: ${problem}`, row.table_name);
      continue;
    }
    if (!localTables.has(row.table_name)) {
      findings.error(
        'V11',
        `_files lists ${row.path} for a table that is not a local table in _meta`,
        row.table_name,
      );
      continue;
    }
    const info = await stat(join(dataDir, row.path)).catch(() => null);
    if (!info?.isFile()) findings.error('V11', `file ${row.path} does not exist`, row.table_name);
    else if (info.size !== row.size_bytes) {
      findings.error(
        'V11',
        `file ${row.path} is ${info.size} bytes, _files says ${row.size_bytes}`,
        row.table_name,
      );
    }
    withFiles.add(row.table_name);
  }
  for (const table of localTables) {
    if (!withFiles.has(table)) findings.error('V11', 'local table has no file in _files', table);
  }
}

function checkExtraObjects(contents: ExtractContents, findings: Findings): void {
  const declared = new Set(contents.meta.map((m) => m.table_name));
  for (const table of contents.baseTables) {
    if (!declared.has(table) && !INTERNAL_TABLES.has(table))
      findings.warn('V12', `unexpected table ${table}`);
  }
  for (const view of contents.views.keys()) {
    if (!declared.has(view)) findings.warn('V12', `view ${view} is not listed in _meta`);
  }
  for (const other of contents.otherObjects) findings.warn('V12', `unexpected object ${other}`);
}

async function checkTempLeftovers(dir: string, now: Date, findings: Findings): Promise<void> {
  const places = [dir, join(dir, DATA_DIR_NAME)];
  const dataEntries = await readdir(join(dir, DATA_DIR_NAME), { withFileTypes: true }).catch(() => []);
  for (const entry of dataEntries) if (entry.isDirectory()) places.push(join(dir, DATA_DIR_NAME, entry.name));
  for (const place of places) {
    for (const name of await readdir(place).catch(() => [] as string[])) {
      if (!TEMP_FILE_PATTERN.test(name)) continue;
      const info = await lstat(join(place, name)).catch(() => null);
      if (info && now.getTime() - info.mtimeMs > STALE_TEMP_MS)
        findings.warn('V13', `stale temp file ${name}`);
    }
  }
}
