import { connectorFor } from '../../connectors/index.js';
import { type ExtractInput, type ExtractResult, extractExitCode } from '../../core/extract/connector.js';
import { validateExtract } from '../../core/extract/validator.js';
import { sanitizeDetail } from '../../core/orchestrator/sanitize.js';
import { loadInstance, NO_SECRETS, openContext } from '../instance.js';
import { printJson } from '../output.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * `agnes extract --stdin-config`: the extractor child. Input JSON on stdin, progress on stderr,
 * the result as the last stdout line; exit 0 (all), 2 (partial), 1 (nothing or crash). It never
 * opens the state store.
 */
export async function extractChild(): Promise<number> {
  let input: ExtractInput;
  try {
    input = JSON.parse(await readStdin()) as ExtractInput;
  } catch {
    process.stderr.write('extract: stdin is not a JSON extract input\n');
    return 1;
  }
  const started = performance.now();
  try {
    const result = await connectorFor(input.type).extract(input, {
      progress: (line) => process.stderr.write(`${line}\n`),
      env: process.env,
    });
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return extractExitCode(result);
  } catch (error) {
    const result: ExtractResult = {
      tables_extracted: [],
      tables_failed: [{ table: '*', code: 'extract_failed', message: sanitizeDetail(error) }],
      watermarks: {},
      duration_ms: Math.round(performance.now() - started),
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return 1;
  }
}

/** `agnes extract --source NAME`: one sync job in the foreground (extract, rebuildSource, profiles). */
export async function extractSource(options: {
  source: string;
  tables: string[];
  fullRefresh: boolean;
  json: boolean;
}): Promise<number> {
  const instance = loadInstance({ logToStderr: true });
  const ctx = await openContext(instance, NO_SECRETS);
  try {
    if (!ctx.sources.some((s) => s.name === options.source)) {
      process.stderr.write(
        `agnes: source ${options.source} is not configured (known: ${ctx.sources.map((s) => s.name).join(', ') || 'none'})\n`,
      );
      return 1;
    }
    await ctx.jobs.start();
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
