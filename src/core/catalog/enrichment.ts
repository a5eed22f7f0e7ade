import type { RegistryEntry } from '../state/repositories/index.js';

/**
 * The seam between the catalog and an external metadata catalog (07 §6 OpenMetadata): the catalog
 * use cases ask an injected enricher, the connector implements it and the runtime wires the two.
 * Every text in an enrichment is already plain, length-limited text (07 §0 untrusted upstream text).
 */

export interface ColumnEnrichment {
  name: string;
  /** The catalog's data type, as it writes it. */
  type: string | null;
  description: string | null;
  tags: string[];
}

export interface TableEnrichment {
  description: string | null;
  owners: string[];
  tags: string[];
  tier: string | null;
  /** `<catalog url>/table/<fqn>`; built from configuration, never taken from a payload. */
  link: string;
  columns: ColumnEnrichment[];
}

export interface CatalogEnricher {
  /**
   * The enrichment of one registered table, fetched when not cached. Never throws: a table
   * without a catalog name, unknown to the catalog, or a failing catalog all give null.
   */
  lookup(table: RegistryEntry): Promise<TableEnrichment | null>;
  /** What is cached for the table, without a request (lists must not wait on the catalog). */
  peek(table: RegistryEntry): TableEnrichment | null;
}

/** The catalog's column facts by name: an exact match first, else one that differs only in case. */
export function columnEnrichment(enrichment: TableEnrichment, name: string): ColumnEnrichment | undefined {
  return (
    enrichment.columns.find((c) => c.name === name) ??
    enrichment.columns.find((c) => c.name.toLowerCase() === name.toLowerCase())
  );
}
