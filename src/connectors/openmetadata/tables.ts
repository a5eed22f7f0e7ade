import type { ColumnEnrichment, TableEnrichment } from '../../core/catalog/enrichment.js';
import type { OmEntity } from './client.js';
import { ownerNames, tableTags, tagFqns } from './conventions.js';
import { htmlToText, labelText } from './text.js';

/** More columns than any real table has; the rest of a hostile answer is dropped. */
const MAX_COLUMNS = 5000;

function columnsOf(value: unknown): ColumnEnrichment[] {
  if (!Array.isArray(value)) return [];
  return value.slice(0, MAX_COLUMNS).flatMap((column) => {
    const c = (column ?? {}) as Record<string, unknown>;
    const name = labelText(c.name);
    if (name === '') return [];
    const type = labelText(c.dataTypeDisplay) || labelText(c.dataType);
    return [{ name, type: type || null, description: htmlToText(c.description), tags: tagFqns(c.tags) }];
  });
}

/**
 * What the catalog shows of an OpenMetadata table (`GET /api/v1/tables/name/{fqn}`): description
 * and column descriptions as plain text, owners, tags without the tier, the tier and the link.
 */
export function toTableEnrichment(table: OmEntity, link: string): TableEnrichment {
  const { tags, tier } = tableTags(table.tags);
  return {
    description: htmlToText(table.description),
    owners: ownerNames(table.owners),
    tags,
    tier,
    link,
    columns: columnsOf(table.columns),
  };
}
