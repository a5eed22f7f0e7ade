import {
  collectCatalogDocs,
  type ExportClient,
  type ExportSettings,
} from '../../connectors/openmetadata/export.js';
import { openMetadataClient } from '../../connectors/openmetadata/index.js';
import { type GeneratedDocsReport, writeGeneratedDocs } from '../../core/catalog/generated-docs.js';
import type { RegistryEntry } from '../../core/state/repositories/index.js';
import { printJson } from '../output.js';
import { withOperatorState } from '../state.js';

export interface CatalogExportReport extends GeneratedDocsReport {
  metrics: number;
  tables: number;
  /** Tables whose lookup failed; their previous files are kept. */
  failed: number;
  problems: string[];
}

/** Reads OpenMetadata and writes `DATA_DIR/docs` by the marker rules (07 §6). */
export async function exportCatalog(input: {
  client: ExportClient;
  settings: ExportSettings;
  registry: readonly RegistryEntry[];
  dataDir: string;
  now?: Date;
}): Promise<CatalogExportReport> {
  const docs = await collectCatalogDocs(input.client, input.settings, input.registry);
  const report = await writeGeneratedDocs(input.dataDir, docs, input.now);
  return {
    metrics: docs.metrics.length,
    tables: docs.tables.length,
    failed: docs.keep.length,
    problems: docs.problems,
    ...report,
  };
}

/**
 * `agnes catalog-export [--json]`: exit 0 when everything was exported, 2 when some metrics or
 * tables could not be, 1 when OpenMetadata is not configured or the run failed.
 */
export async function catalogExport(options: { json: boolean }): Promise<number> {
  return withOperatorState(async ({ instance, repos }) => {
    const settings = instance.loaded.config.openmetadata;
    const client = openMetadataClient(settings);
    if (!client || !settings.url) {
      process.stderr.write(
        'agnes catalog-export: OpenMetadata is not configured (set openmetadata.url and openmetadata.token)\n',
      );
      return 1;
    }
    const report = await exportCatalog({
      client,
      settings: { ...settings, url: settings.url },
      registry: await repos.registry.list(),
      dataDir: instance.loaded.dataDir,
    });
    if (options.json) printJson(report);
    else {
      process.stdout.write(
        `exported ${report.metrics} metric(s) and ${report.tables} table(s): ${report.written.length} written, ${report.removed.length} removed, ${report.kept_manual.length} hand-written kept\n`,
      );
      for (const problem of report.problems) process.stdout.write(`  ${problem}\n`);
    }
    return report.problems.length > 0 ? 2 : 0;
  });
}
