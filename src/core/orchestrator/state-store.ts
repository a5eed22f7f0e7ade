import type { StateDb } from '../state/db.js';
import { createSyncStateRepository } from '../state/repositories/sync-state.js';
import type { OrchestratorStateStore } from './orchestrator.js';

/** The orchestrator's view of the state store: state and history of one run land in one transaction. */
export function orchestratorStateStore(db: StateDb): OrchestratorStateStore {
  return {
    listSyncStates: (source) =>
      createSyncStateRepository(db).listStates(source === undefined ? {} : { source }),
    applyRebuild: (changes) =>
      db.transaction().execute(async (trx) => {
        const repository = createSyncStateRepository(trx);
        await repository.upsertStates(changes.upserts);
        await repository.appendHistory(changes.history);
      }),
  };
}
