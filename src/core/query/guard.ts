import { AgnesError } from '../errors.js';
import type { SqlParser } from './sql-parser.js';
import { countKeyword, namedWindowSpecs, type SqlToken, tokenize } from './sql-tokens.js';
import { type WalkResult, walkStatement } from './tree-walk.js';
import type { TableAccess } from './types.js';

/** A statement that passed the guard: the caller's text, its tree and the tables it reads. */
export interface CheckedQuery {
  sql: string;
  /** `json_serialize_sql` output of the statement (for `json_deserialize_sql`). */
  treeJson: string;
  tables: string[];
}

const SELECT_WORD = /select/gi;
const WINDOW_WORD = /window/i;

const lostClause = (detail: string) => new AgnesError('unsupported_construct', detail);

/** Step 1 of 05 §2 pipeline: a string of at most `maxBytes` UTF-8 bytes without NUL. */
export function checkSqlText(sql: string, maxBytes: number): void {
  if (Buffer.byteLength(sql, 'utf8') > maxBytes)
    throw new AgnesError('sql_too_large', `the SQL text exceeds ${maxBytes} bytes`);
  if (sql.includes('\u0000')) throw new AgnesError('invalid_sql', 'the SQL text contains a NUL character');
}

/**
 * The query guard (05 §2 pipeline steps 1, 3–5): the one check every caller-influenced statement passes
 * before it may run. Throws an `AgnesError` with the code of the first rule broken.
 */
export interface GuardOptions {
  maxSqlBytes: number;
  /**
   * Test seam for the defence-in-depth tests (05 §8 attack categories the guard must withstand): false skips the tree walk so that layers 2
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
    if (!this.#treeWalk) return { sql, treeJson: parsed.json, tables: [] };
    const walked = walkStatement(parsed.statement, access);
    // A clause the parser dropped is text the walk never saw (05 §3): every named window is
    // walked as the OVER it defines, used or not, and a SELECT keyword of the text without its
    // node in the walked trees is refused. Most texts mention neither word more often than the
    // tree has nodes, and then need no lexing at all.
    const selectMentions = sql.match(SELECT_WORD)?.length ?? 0;
    if (selectMentions <= walked.selectNodes && !WINDOW_WORD.test(sql))
      return { sql, treeJson: parsed.json, tables: walked.tables };
    const tokens = tokenize(sql);
    const walks = [walked, ...(await this.#walkNamedWindows(sql, tokens, access))];
    const selectNodes = walks.reduce((sum, walk) => sum + walk.selectNodes, 0);
    if (countKeyword(tokens, 'select') > selectNodes)
      throw lostClause('the query holds a clause the parser dropped');
    const tables = [...new Set(walks.flatMap((walk) => walk.tables))].sort();
    return { sql, treeJson: parsed.json, tables };
  }

  async #walkNamedWindows(
    sql: string,
    tokens: readonly SqlToken[],
    access: TableAccess,
  ): Promise<WalkResult[]> {
    if (countKeyword(tokens, 'window') === 0) return [];
    const specs = namedWindowSpecs(sql, tokens);
    if (specs === null) throw lostClause('this WINDOW clause is not supported');
    const walks: WalkResult[] = [];
    for (const spec of specs) {
      const parsed = await this.#parser.serialize(`SELECT count(*) OVER (${spec})`).catch(() => {
        throw lostClause('this named window is not supported; write it in the OVER clause');
      });
      const walk = walkStatement(parsed.statement, access);
      // The wrapper's own SELECT is not one of the text's.
      walks.push({ ...walk, selectNodes: walk.selectNodes - 1 });
    }
    return walks;
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
