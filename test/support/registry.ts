import type { RegistryEntry } from '../../src/core/state/repositories/index.js';

/** A registry row as the state store returns it, for code that takes entries without a store. */
export function registryEntry(fields: Partial<RegistryEntry> & Pick<RegistryEntry, 'id'>): RegistryEntry {
  return {
    name: fields.id,
    source: 'shop',
    source_type: 'local',
    bucket: '',
    source_table: fields.id,
    sync_strategy: 'full_refresh',
    query_mode: 'local',
    sync_schedule: null,
    profile_after_sync: true,
    primary_key: null,
    partition_by: null,
    partition_granularity: null,
    folder: null,
    description: null,
    registered_by: null,
    is_public: false,
    is_discoverable: true,
    catalog_fqn: null,
    registered_at: '2026-01-01T00:00:00.000Z',
    updated_at: '2026-01-01T00:00:00.000Z',
    ...fields,
  };
}
