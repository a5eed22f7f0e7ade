import { AgnesError } from '../errors.js';
import type { SqlParser } from './sql-parser.js';
import { walkStatement } from './tree-walk.js';
import type { TableAccess } from './types.js';

/** A statement that passed the guard: the caller's text, its tree and the tables it reads. */
export interface CheckedQuery {
  sql: string;
  /** `json_serialize_sql` output of the statement (for `json_deserialize_sql`). */
  treeJson: string;
  tables: string[];
}

/** Step 1 of 05 §2: a string of at most `maxBytes` UTF-8 bytes without NUL. */
export function checkSqlText(sql: string, maxBytes: number): void {
  if (Buffer.byteLength(sql, 'utf8') > maxBytes)
    throw new AgnesError('sql_too_large', `the SQL text exceeds ${maxBytes} bytes`);
  if (sql.includes('\u0000')) throw new AgnesError('invalid_sql', 'the SQL text contains a NUL character');
}

/**
 * The query guard (05 §2 steps 1, 3–5): the one check every caller-influenced statement passes
 * before it may run. Throws an `AgnesError` with the code of the first rule broken.
 */
export interface GuardOptions {
  maxSqlBytes: number;
  /**
   * Test seam for the defence-in-depth tests (05 §8): false skips the tree walk so that layers 2
   * and 3 can be shown to hold on their own. Production code never sets it.
   */
  treeWalk?: boolean;
}

export class QueryGuard {
  readonly #parser: SqlParser;
  readonly #maxSqlBytes: number;
  readonly #treeWalk: boolean;

  constructor(parser: SqlParser, options: GuardOptions) {
    this.#parser = parser;
    this.#maxSqlBytes = options.maxSqlBytes;
    this.#treeWalk = options.treeWalk ?? true;
  }

  async check(sql: string, access: TableAccess): Promise<CheckedQuery> {
    checkSqlText(sql, this.#maxSqlBytes);
    // Steps 3 and 4 in one parser call when the text is one SELECT (the common case); any
    // refusal is decided in the spec's order, statement count first.
    const parsed = await this.#parser.serialize(sql).catch(async (error: unknown) => {
      const count = await this.#parser.countStatements(sql);
      if (count === 0) throw new AgnesError('empty_query', 'the query contains no statement');
      if (count > 1) throw new AgnesError('multiple_statements', 'only one statement per query is allowed');
      throw error;
    });
    const tables = this.#treeWalk ? walkStatement(parsed.statement, access).tables : [];
    return { sql, treeJson: parsed.json, tables };
  }

  /**
   * The canonical text of a checked statement, for the engine's own wrappers (`COPY (…) TO`),
   * where trailing semicolons and comments of the caller's text cannot be spliced. The canonical
   * text is checked again, so what runs is always text that passed the guard.
   */
  async canonical(checked: CheckedQuery, access: TableAccess): Promise<string> {
    const text = await this.#parser.deserialize(checked.treeJson);
    await this.check(text, access);
    return text;
  }
}
