import { stringify } from 'yaml';
import type { GeneratedDoc, GeneratedDocs } from '../../core/catalog/generated-docs.js';
import { toMetricSegment } from '../../core/catalog/metrics.js';
import { isValidTableId } from '../../core/ids.js';
import type { RegistryEntry } from '../../core/state/repositories/index.js';
import { type OmEntity, type OpenMetadataClient, OpenMetadataError } from './client.js';
import { metricConventions, ownerNames, tagFqns } from './conventions.js';
import { tableFqn, tableLink } from './fqn.js';
import { toTableEnrichment } from './tables.js';
import { htmlToText, labelText } from './text.js';

/**
 * What `agnes catalog-export` writes (07 §6): one YAML document per OpenMetadata metric, in the
 * shape the catalog's metric API reads (`name`, `display_name`, `category`, `grain`), and one per
 * registered table that has an FQN. Names from upstream become path segments only through
 * {@link toMetricSegment}; table files are named by the registry id.
 */

export interface ExportSettings {
  url: string;
  filter_tag: string;
  data_product: string;
  fqn_template: string;
}

export interface CollectedDocs extends GeneratedDocs {
  /** Metrics and tables that could not be exported, one line each, without credentials. */
  problems: string[];
}

export type ExportClient = Pick<OpenMetadataClient, 'table' | 'metrics' | 'searchMetrics'>;

/** Tables fetched at once. */
const PARALLEL_TABLES = 4;

const yaml = (document: Record<string, unknown>) =>
  stringify(document, { lineWidth: 0, aliasDuplicateObjects: false });

/** Drops null, empty-string and empty-list fields, so the files hold only what is known. */
function compact(document: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(document).filter(
      ([, v]) => v !== null && v !== undefined && v !== '' && !(Array.isArray(v) && v.length === 0),
    ),
  );
}

interface MetricDoc {
  doc: GeneratedDoc;
  summary: { path: string; name: string; display_name: string; category: string; grain: string | null };
}

/** One metric's document, or a reason it cannot be written. */
export function metricDoc(metric: OmEntity): MetricDoc | string {
  const name = labelText(metric.name);
  const conventions = metricConventions(metric);
  const file = toMetricSegment(name);
  if (file === null) return `metric ${JSON.stringify(name.slice(0, 80))}: no usable file name`;
  const category = toMetricSegment(conventions.category) ?? 'general';
  const path = `${category}/${file}.yml`;
  const display_name = labelText(metric.displayName) || name;
  const body = yaml(
    compact({
      name,
      display_name,
      category,
      grain: conventions.grain,
      type: conventions.type,
      unit: conventions.unit,
      dimensions: conventions.dimensions,
      description: htmlToText(metric.description),
      expression: conventions.expression,
      owners: ownerNames(metric.owners),
      tags: tagFqns(metric.tags),
      fqn: labelText(metric.fullyQualifiedName),
      source: 'openmetadata',
    }),
  );
  return {
    doc: { path: `metrics/${path}`, body },
    summary: { path, name, display_name, category, grain: conventions.grain },
  };
}

/** The metrics to export: of the data product when one is set, then those with the filter tag. */
async function selectedMetrics(client: ExportClient, settings: ExportSettings): Promise<OmEntity[]> {
  const all = settings.data_product
    ? await client.searchMetrics(settings.data_product)
    : await client.metrics();
  if (!settings.filter_tag) return all;
  return all.filter((metric) => tagFqns(metric.tags).includes(settings.filter_tag));
}

/** One registered table's document; null when OpenMetadata does not know the FQN. */
async function tableDoc(
  client: ExportClient,
  settings: ExportSettings,
  table: RegistryEntry,
  fqn: string,
): Promise<GeneratedDoc | null> {
  const entity = await client.table(fqn);
  if (!entity) return null;
  const e = toTableEnrichment(entity, tableLink(settings.url, fqn));
  const body = yaml(
    compact({
      id: table.id,
      name: table.name,
      fqn,
      description: e.description,
      owners: e.owners,
      tags: e.tags,
      tier: e.tier,
      link: e.link,
      columns: e.columns.map((c) => compact({ ...c })),
      source: 'openmetadata',
    }),
  );
  return { path: `tables/${table.id}.yml`, body };
}

/**
 * Reads every metric (all pages) and every registered table with an FQN from OpenMetadata and
 * returns the documents to write. A refused token ends the run (every call would fail); another
 * failure of one table keeps that table's previous file and is reported.
 */
export async function collectCatalogDocs(
  client: ExportClient,
  settings: ExportSettings,
  registry: readonly RegistryEntry[],
): Promise<CollectedDocs> {
  const problems: string[] = [];
  const metrics: MetricDoc[] = [];
  const taken = new Set<string>();
  for (const metric of await selectedMetrics(client, settings)) {
    const made = metricDoc(metric);
    if (typeof made === 'string') problems.push(made);
    else if (taken.has(made.doc.path))
      problems.push(`metric ${made.summary.name}: ${made.summary.path} is taken by another metric`);
    else {
      taken.add(made.doc.path);
      metrics.push(made);
    }
  }

  const tables: GeneratedDoc[] = [];
  const keep: string[] = [];
  const queue = registry.flatMap((table) => {
    const fqn = tableFqn(table, settings.fqn_template);
    return fqn !== null && isValidTableId(table.id) ? [{ table, fqn }] : [];
  });
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      try {
        const doc = await tableDoc(client, settings, next.table, next.fqn);
        if (doc) tables.push(doc);
      } catch (error) {
        if (error instanceof OpenMetadataError && error.code === 'auth_failed') {
          queue.length = 0;
          throw error;
        }
        keep.push(`tables/${next.table.id}.yml`);
        problems.push(`table ${next.table.id}: ${error instanceof Error ? error.message : 'lookup failed'}`);
      }
    }
  };
  await Promise.all(Array.from({ length: PARALLEL_TABLES }, worker));
  tables.sort((a, b) => a.path.localeCompare(b.path));

  return {
    metrics: metrics.map((m) => m.doc),
    metricsIndex: yaml({ metrics: metrics.map((m) => compact(m.summary)) }),
    tables,
    keep,
    summary: { metrics: metrics.length, tables: tables.length, failed: keep.length, problems },
    problems,
  };
}
