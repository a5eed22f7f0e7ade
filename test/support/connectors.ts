import { dirname } from 'node:path';
import { Type } from '@sinclair/typebox';
import type { Connector, ConnectorTraits } from '../../src/core/extract/connector.js';
import { makeExtract } from './extracts.js';

export interface FakeConnectorOptions {
  type: string;
  traits?: Partial<ConnectorTraits>;
  remoteExtension?: string;
  /** Rows per table it extracts. */
  rows?: number;
}

/**
 * A test-only connector: one folder's worth of code, registered by listing it like the built-in
 * ones. Its configuration is `data_sources.<type>: {enabled, rows}` and defines one source named
 * after the type when enabled; `extract` writes every requested table with `rows` generated rows
 * through the real extract writer, and `discover` offers three tables.
 */
export function fakeConnector(options: FakeConnectorOptions): Connector {
  const { type } = options;
  const rows = options.rows ?? 5;
  const rowsOf = (config: unknown) => (config as { rows?: number } | null)?.rows ?? rows;
  return {
    type,
    traits: { direction: 'pull', queryModes: ['local'], ...options.traits },
    remoteExtension: options.remoteExtension,
    config: {
      key: type,
      schema: Type.Object(
        {
          enabled: Type.Boolean({ default: false }),
          rows: Type.Integer({ minimum: 0, default: rows }),
        },
        { additionalProperties: false, default: {} },
      ),
      sources(section) {
        const { enabled, rows: count } = section as { enabled: boolean; rows: number };
        return enabled ? [{ name: type, type, config: { rows: count }, key: `data_sources.${type}` }] : [];
      },
    },
    async extract(input) {
      const started = Date.now();
      const count = rowsOf(input.config);
      const ids = input.tables.map((t) => t.id);
      await makeExtract(
        dirname(input.extractDir),
        input.source,
        input.tables.map((t) => ({
          name: t.id,
          select: `SELECT range AS id, 'row ' || range AS label FROM range(${count})`,
        })),
      );
      return { tables_extracted: ids, tables_failed: [], watermarks: {}, duration_ms: Date.now() - started };
    },
    async discover(source) {
      const count = rowsOf(source.config);
      return ['accounts', 'invoices', 'events'].map((name) => ({
        name,
        source_table: `${type}.${name}`,
        bucket: type,
        columns: [
          { name: 'id', type: 'BIGINT' },
          { name: 'label', type: 'VARCHAR' },
        ],
        rows: count,
        size_bytes: null,
        primary_key: ['id'],
        last_change: null,
      }));
    },
  };
}
