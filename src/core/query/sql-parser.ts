import {
  type DuckDBConnection,
  type DuckDBInstance,
  type DuckDBPreparedStatement,
  DuckDBInstance as Instance,
} from '@duckdb/node-api';
import { AgnesError, errorMessage } from '../errors.js';

/**
 * DuckDB's own parser on a dedicated instance (05 §2 pipeline steps 3–4): in memory, no catalogs, external
 * access off and configuration locked, so nothing it is asked can read a file. It only ever
 * counts statements and serialises them; it never prepares or binds the caller's SQL. The one
 * statement it binds is a row-policy filter, already walked, over a typed all-NULL row (`binds`).
 */

/** The serialised tree of one statement, and the JSON text it came from. */
export interface ParsedSql {
  statement: unknown;
  json: string;
}

interface ParserSession {
  conn: DuckDBConnection;
  serialize: DuckDBPreparedStatement;
  deserialize: DuckDBPreparedStatement | null;
}

const MAX_IDLE = 8;
const MAX_DETAIL = 300;

/** The parser's first line, without DuckDB's wrapper prefixes. */
export function parserFirstLine(message: string): string {
  const first = message.split('\n')[0] ?? '';
  const text = first
    .replace(/^Failed to extract statements:\s*/, '')
    .replace(/^Parser Error:\s*/, '')
    .trim();
  return (text || 'the query could not be parsed').slice(0, MAX_DETAIL);
}

export class SqlParser {
  readonly #instance: DuckDBInstance;
  readonly #idle: ParserSession[] = [];
  #closed = false;

  private constructor(instance: DuckDBInstance) {
    this.#instance = instance;
  }

  static async open(): Promise<SqlParser> {
    const instance = await Instance.create(':memory:', {
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
      enable_external_access: 'false',
      lock_configuration: 'true',
      threads: '1',
      memory_limit: '256MB',
    });
    return new SqlParser(instance);
  }

  /** Statements in the text, empty ones not counted (step 3). Throws `empty_query` or `invalid_sql`. */
  async countStatements(sql: string): Promise<number> {
    return this.#with(async (session) => {
      try {
        return (await session.conn.extractStatements(sql)).count;
      } catch (error) {
        // The binding throws for malformed text (a Parser Error) and, without one, when the text
        // holds no statement at all (empty, only `;`, whitespace or comments).
        const message = errorMessage(error);
        if (message.includes('Parser Error')) throw new AgnesError('invalid_sql', parserFirstLine(message));
        // Some commands do work while being extracted (IMPORT DATABASE reads its files, which the
        // locked parser refuses): whatever they are, they are not a SELECT.
        if (message.startsWith('Failed to extract statements'))
          throw new AgnesError('not_select', 'only a single SELECT statement is allowed');
        throw new AgnesError('empty_query', 'the query contains no statement');
      }
    });
  }

  /** `json_serialize_sql` with the text bound as a parameter (step 4). */
  async serialize(sql: string): Promise<ParsedSql> {
    const json = await this.#with(async (session) => {
      session.serialize.bindVarchar(1, sql);
      const reader = await session.serialize.runAndReadAll();
      return String(reader.getRows()[0]?.[0] ?? '');
    });
    const tree = JSON.parse(json) as {
      error?: boolean;
      error_type?: string;
      error_message?: string;
      statements?: unknown[];
    };
    if (tree.error) {
      const message = tree.error_message ?? '';
      if (message.startsWith('Only SELECT statements'))
        throw new AgnesError('not_select', 'only a single SELECT statement is allowed');
      throw new AgnesError('invalid_sql', parserFirstLine(message));
    }
    const statements = tree.statements ?? [];
    if (statements.length === 0) throw new AgnesError('empty_query', 'the query contains no statement');
    if (statements.length > 1)
      throw new AgnesError('multiple_statements', 'only one statement per query is allowed');
    return { statement: statements[0], json };
  }

  /** The canonical SQL text of a serialised statement (`json_deserialize_sql`). */
  async deserialize(json: string): Promise<string> {
    return this.#with(async (session) => {
      session.deserialize ??= await session.conn.prepare('SELECT json_deserialize_sql($1::JSON)');
      session.deserialize.bindVarchar(1, json);
      const reader = await session.deserialize.runAndReadAll();
      return String(reader.getRows()[0]?.[0] ?? '');
    });
  }

  /**
   * Whether `sql` binds here (its names resolve and its types fit); nothing runs. Only for the
   * row-policy type check (12 §2), whose filter the policy walk has already limited to scalar
   * expressions over the statement's own derived row.
   */
  async binds(sql: string): Promise<boolean> {
    return this.#with(async (session) => {
      try {
        (await session.conn.prepare(sql)).destroySync();
        return true;
      } catch {
        return false;
      }
    });
  }

  async #with<T>(work: (session: ParserSession) => Promise<T>): Promise<T> {
    if (this.#closed) throw new AgnesError('unavailable', 'the query engine is shutting down');
    const session = this.#idle.pop() ?? (await this.#session());
    try {
      return await work(session);
    } finally {
      if (this.#closed || this.#idle.length >= MAX_IDLE) session.conn.closeSync();
      else this.#idle.push(session);
    }
  }

  async #session(): Promise<ParserSession> {
    const conn = await this.#instance.connect();
    const serialize = await conn.prepare('SELECT json_serialize_sql($1::VARCHAR)');
    return { conn, serialize, deserialize: null };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const session of this.#idle.splice(0)) session.conn.closeSync();
    this.#instance.closeSync();
  }
}
