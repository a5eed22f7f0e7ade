import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { SourceDefinition } from '../config/sources.js';
import type { ConnectorRegistry } from '../extract/connector.js';
import { isValidSourceName } from '../ids.js';
import { byteOrder } from '../orchestrator/report.js';
import type { RegistryEntry, SyncState } from '../state/repositories/index.js';

/** A source the app knows of, from configuration, the registry, the state store or `extracts/`. */
export interface KnownSource {
  name: string;
  /** Connector type: configured, else the connector whose output directory this is, else the registry's. */
  type: string;
  configured: SourceDefinition | null;
  push: boolean;
  /** `extracts/<name>/` exists as a real directory. */
  hasExtractDir: boolean;
  /** `sync_state` has published (`ok`) rows of this source, i.e. it has views. */
  published: boolean;
  registered: number;
}

async function extractDirectories(dataDir: string): Promise<Set<string>> {
  const root = join(dataDir, 'extracts');
  const names = new Set<string>();
  for (const entry of await readdir(root).catch(() => [] as string[])) {
    if (!isValidSourceName(entry)) continue;
    const info = await lstat(join(root, entry)).catch(() => null);
    if (info?.isDirectory()) names.add(entry);
  }
  return names;
}

/** What tells the sources apart: the configured ones, the connectors and the data directory. */
export interface SourceDeps {
  sources: readonly SourceDefinition[];
  connectors: ConnectorRegistry;
  dataDir: string;
}

/** Every source the app knows of, by name, sorted in the orchestrator's byte order. */
export async function knownSources(
  ctx: SourceDeps,
  registry: readonly Pick<RegistryEntry, 'source' | 'source_type'>[],
  states: readonly Pick<SyncState, 'source' | 'status'>[],
): Promise<KnownSource[]> {
  const dirs = await extractDirectories(ctx.dataDir);
  const names = new Set<string>([
    ...ctx.sources.map((s) => s.name),
    ...registry.map((r) => r.source),
    ...states.filter((s) => s.status !== 'removed').map((s) => s.source),
    ...dirs,
  ]);
  return [...names].sort(byteOrder).map((name) => {
    const configured = ctx.sources.find((s) => s.name === name) ?? null;
    const ofSource = registry.filter((r) => r.source === name);
    // Built-in non-local connectors write `extracts/<type>/` (07 §0 common model), so the name tells the type.
    const type =
      configured?.type ?? (ctx.connectors.has(name) ? name : (ofSource[0]?.source_type ?? 'unknown'));
    return {
      name,
      type,
      configured,
      push: ctx.connectors.get(type)?.traits.direction === 'push',
      hasExtractDir: dirs.has(name),
      published: states.some((s) => s.source === name && s.status === 'ok'),
      registered: ofSource.length,
    };
  });
}
