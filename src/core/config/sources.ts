import { resolve } from 'node:path';
import type { InstanceConfig } from './schema.js';

/** A data source the app can sync: its name (the extract directory), connector type and settings. */
export interface SourceDefinition {
  name: string;
  type: string;
  config: unknown;
}

/**
 * The sources this configuration defines. Local sources resolve their path against `cwd`, so an
 * extractor child sees the same directory whatever its own working directory.
 */
export function configuredSources(config: InstanceConfig, cwd: string = process.cwd()): SourceDefinition[] {
  return config.data_sources.local.map((source) => ({
    name: source.name,
    type: 'local',
    config: { path: resolve(cwd, source.path), csv: source.csv },
  }));
}
