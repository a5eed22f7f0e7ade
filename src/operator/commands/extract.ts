import { BUILT_IN_CONNECTORS } from '../../connectors/index.js';
import { ConnectorRegistry } from '../../core/extract/connector.js';
import { validateExtract } from '../../core/extract/validator.js';
import { runExtractChild } from '../../runtime/extract-child.js';
import { loadInstance, NO_SECRETS, openRuntime } from '../instance.js';
import { printJson } from '../output.js';

/**
 * `agnes extract --stdin-config`: the extractor child of a sync job, with the built-in connectors.
 * The child reads no configuration: its input names the connector and carries its settings.
 */
export function extractChild(): Promise<number> {
  return runExtractChild(new ConnectorRegistry(BUILT_IN_CONNECTORS));
}

/** `agnes extract --source NAME`: one sync job in the foreground (extract, rebuildSource, profiles). */
export async function extractSource(options: {
  source: string;
  tables: string[];
  fullRefresh: boolean;
  json: boolean;
}): Promise<number> {
  const instance = loadInstance({ logToStderr: true });
  const ctx = await openRuntime(instance, NO_SECRETS);
  try {
    if (!ctx.sources.some((s) => s.name === options.source)) {
      process.stderr.write(
        `agnes: source ${options.source} is not configured (known: ${ctx.sources.map((s) => s.name).join(', ') || 'none'})\n`,
      );
      return 1;
    }
    await ctx.start();
    const job = await ctx.jobs.enqueueSync({
      source: options.source,
      tables: options.tables,
      fullRefresh: options.fullRefresh,
    });
    const finished = await ctx.jobs.waitFor(job.id);
    if (options.json) printJson(finished);
    else
      process.stdout.write(
        `sync job ${finished.id}: ${finished.status}${finished.error ? ` — ${finished.error}` : ''}\n`,
      );
    return finished.status === 'succeeded' ? 0 : finished.status === 'partial' ? 2 : 1;
  } finally {
    await ctx.close();
  }
}

/** `agnes extract validate DIR`: every contract rule, one line per finding. */
export async function validate(dir: string, options: { json: boolean }): Promise<number> {
  const result = await validateExtract(dir);
  if (options.json) printJson(result);
  else {
    for (const f of result.errors)
      process.stdout.write(`error   ${f.code}${f.table ? ` ${f.table}` : ''}: ${f.message}\n`);
    for (const f of result.warnings)
      process.stdout.write(`warning ${f.code}${f.table ? ` ${f.table}` : ''}: ${f.message}\n`);
    process.stdout.write(
      result.ok ? 'extract is valid\n' : `extract is invalid: ${result.errors.length} error(s)\n`,
    );
  }
  return result.ok ? 0 : 1;
}
