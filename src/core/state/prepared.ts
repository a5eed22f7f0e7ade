import type { Compilable, CompiledQuery, Kysely } from 'kysely';
import type { Database } from './schema.js';

/**
 * A query built and compiled once, executed many times with new values. Building and compiling a
 * Kysely query costs more than running a small indexed SELECT; hot paths (authenticating every
 * request) use this. The query is still produced by Kysely's builder for the current dialect —
 * placeholders stand in for the values and are swapped at execution. Values must be plain
 * scalars (no booleans: the SQLite plugin converts those at compile time).
 */
export function preparedQuery<Args extends readonly (string | number | null)[], Row>(
  db: Kysely<Database>,
  build: (...placeholders: string[]) => Compilable<Row>,
  arity: Args['length'],
): (...args: Args) => Promise<Row[]> {
  let compiled: CompiledQuery<Row> | null = null;
  let slots: number[][] = [];
  return async (...args: Args) => {
    if (!compiled) {
      const placeholders = Array.from({ length: arity }, (_, i) => `\u0000agnes-placeholder-${i}\u0000`);
      compiled = build(...placeholders).compile();
      slots = placeholders.map((p) =>
        compiled!.parameters.flatMap((value, index) => (value === p ? [index] : [])),
      );
    }
    const parameters = [...compiled.parameters];
    slots.forEach((indexes, i) => {
      for (const index of indexes) parameters[index] = args[i];
    });
    return (await db.executeQuery<Row>({ ...compiled, parameters })).rows;
  };
}
