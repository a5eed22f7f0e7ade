import { openStateDb, postgresStore } from '../../core/state/db.js';
import { migrateToLatest, migrationStatus } from '../../core/state/migrate.js';
import { loadInstance } from '../instance.js';

/** `agnes migrate [--status]`. */
export async function migrate(options: { status: boolean }): Promise<number> {
  const instance = loadInstance({ logToStderr: true });
  const db = openStateDb(
    instance.loaded.dataDir,
    postgresStore(instance.loaded.config.state, instance.env.DATABASE_URL),
  );
  try {
    if (options.status) {
      for (const m of await migrationStatus(db))
        process.stdout.write(`${m.name}\t${m.executedAt ?? 'pending'}\n`);
    } else {
      const applied = await migrateToLatest(db);
      process.stdout.write(
        applied.length > 0 ? `applied ${applied.join(', ')}\n` : 'state store is up to date\n',
      );
    }
    return 0;
  } finally {
    await db.destroy();
  }
}
