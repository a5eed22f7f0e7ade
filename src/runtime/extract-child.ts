import {
  type ConnectorRegistry,
  type ExtractInput,
  type ExtractResult,
  extractExitCode,
} from '../core/extract/connector.js';
import { sanitizeDetail } from '../core/orchestrator/sanitize.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The extractor child of 07 §0 common model: input JSON on stdin, progress on stderr, the result as the last
 * stdout line; exit 0 (all), 2 (partial), 1 (nothing or crash). It never opens the state store.
 * It runs whichever connectors it is given, so a process that embeds more connectors (a test, a
 * distribution with its own) starts its own child with the same list.
 */
export async function runExtractChild(connectors: ConnectorRegistry): Promise<number> {
  let input: ExtractInput;
  try {
    input = JSON.parse(await readStdin()) as ExtractInput;
  } catch {
    process.stderr.write('extract: stdin is not a JSON extract input\n');
    return 1;
  }
  const started = performance.now();
  try {
    const result = await connectors.require(input.type).extract(input, {
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
