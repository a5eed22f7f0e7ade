import { openStateDb, postgresStore } from '../core/state/db.js';
import { migrateToLatest } from '../core/state/migrate.js';
import { createRepositories, type Repositories } from '../core/state/repositories/index.js';
import { type Instance, loadInstance } from './instance.js';

export interface OperatorState {
  instance: Instance;
  repos: Repositories;
  close(): Promise<void>;
}

/**
 * The state store for an operator command that needs nothing else (users, tokens): migrated
 * first, so `agnes users create` works on a fresh instance before the first `agnes serve`.
 */
export async function openOperatorState(): Promise<OperatorState> {
  const instance = loadInstance({ logToStderr: true });
  const db = openStateDb(
    instance.loaded.dataDir,
    postgresStore(instance.loaded.config.state, instance.env.DATABASE_URL),
  );
  try {
    await migrateToLatest(db);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return { instance, repos: createRepositories(db), close: () => db.destroy() };
}

/** Runs `work` with the state store open, closing it whatever happens. */
export async function withOperatorState<T>(work: (state: OperatorState) => Promise<T>): Promise<T> {
  const state = await openOperatorState();
  try {
    return await work(state);
  } finally {
    await state.close();
  }
}

/** Reads a secret piped on stdin (`--password-stdin`); one trailing newline is not part of it. */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}
