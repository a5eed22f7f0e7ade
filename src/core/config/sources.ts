import type { ConfiguredSource, Connector, ConnectorConfig } from '../extract/connector.js';
import { isValidSourceName } from '../ids.js';
import type { InstanceConfig } from './schema.js';

/** A data source the app can sync: its name (the extract directory), connector type and settings. */
export interface SourceDefinition {
  name: string;
  type: string;
  config: unknown;
}

/** A connector's decoded section: `data_sources.<key>`, or the top-level `<key>` for a `root` placement. */
export function connectorSection(config: InstanceConfig, connector: ConnectorConfig): unknown {
  return connector.placement === 'root'
    ? (config as unknown as Record<string, unknown>)[connector.key]
    : config.data_sources[connector.key];
}

/**
 * The sources the configuration defines, connector by connector. Paths resolve against `cwd`, so
 * an extractor child sees the same directory whatever its own working directory.
 */
export function configuredSources(
  config: InstanceConfig,
  connectors: readonly Connector[],
  cwd: string,
  env: NodeJS.ProcessEnv,
): ConfiguredSource[] {
  return connectors.flatMap((connector) =>
    connector.config ? connector.config.sources(connectorSection(config, connector.config), cwd, env) : [],
  );
}

/**
 * Source names across all connectors (11 §2.4 data sources, analytics, sync, query, profiler): valid, unique case-insensitively, and not the type
 * of another connector (those name the fixed source of their type, `extracts/keboola/`).
 */
export function checkSources(
  config: InstanceConfig,
  connectors: readonly Connector[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  problems: string[],
  warnings: string[],
): void {
  const types = new Set(connectors.map((c) => c.type.toLowerCase()));
  const names = new Set<string>();
  for (const source of configuredSources(config, connectors, cwd, env)) {
    const name = source.name.toLowerCase();
    if (!isValidSourceName(source.name) || (types.has(name) && name !== source.type)) {
      problems.push(
        `config: ${source.key}.name: must match ^[a-zA-Z_][a-zA-Z0-9_]{0,63}$ and not be a reserved name`,
      );
    } else if (names.has(name)) {
      problems.push(`config: ${source.key}.name: duplicate source name "${source.name}"`);
    }
    names.add(name);
  }
  for (const connector of connectors) {
    if (!connector.config) continue;
    const checked = connector.config.check?.(connectorSection(config, connector.config), cwd, env);
    problems.push(...(checked?.problems ?? []));
    warnings.push(...(checked?.warnings ?? []));
  }
}
