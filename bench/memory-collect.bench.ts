import { performance } from 'node:perf_hooks';
import type { ExtractJsonRequest, LlmClient } from '../src/connectors/llm/index.js';
import { FakeAnthropic } from '../test/fakes/anthropic.js';
import {
  isExtraction,
  item,
  llmFor,
  portFor,
  run,
  userLine,
  writeSession,
} from '../test/services/corporate-memory/support.js';
import { createUser, withServer } from '../test/support/server.js';
import type { Benchmark, Metric } from './lib.js';

/**
 * `memory-collect` (issue 15): transcripts through the whole collector — enumeration, hashing,
 * user-message reduction, redaction, the extraction call, item validation, the screening calls,
 * the import through the real app over HTTP and the cursor — against a fake Anthropic API that
 * answers every call after a fixed delay. Baseline: the fake's own latency as a client sees it —
 * the very requests of the run (recorded) sent again one after another through the same LLM
 * client. Target: what the collector adds per transcript over that; limit ≤ 20 ms (absolute).
 * App, fake and collector share one process here, so the figure includes the app's import work.
 */

const LLM_DELAY_MS = 5;
const ITEMS_PER_TRANSCRIPT = 2;
const SESSIONS_PER_USER = 5;

function transcriptLines(n: number): unknown[] {
  const lines: unknown[] = [];
  for (let i = 0; i < 20; i++) {
    lines.push(
      userLine(`Question ${n}.${i}: how is orders_${i} partitioned? my token=abc${i}def and a@b.example`),
    );
    lines.push({ type: 'assistant', message: { role: 'assistant', content: 'x'.repeat(400) } });
  }
  return lines;
}

const memoryCollect: Benchmark = {
  name: 'memory-collect',
  description: `transcripts through the collector, fake LLM answering in ${LLM_DELAY_MS} ms; overhead per transcript`,
  async run({ smoke }): Promise<Metric[]> {
    const transcripts = smoke ? 10 : 1000;
    const server = await withServer({
      config: {
        corporate_memory: { include_sessions: true },
        auth: { rate_limits: { default: { max: 1_000_000, window_seconds: 60 } } },
      },
    });
    const fake = await FakeAnthropic.start();
    try {
      const collector = await createUser(server.ctx, 'km_admin', { service: true });
      const users = Math.ceil(transcripts / SESSIONS_PER_USER);
      let written = 0;
      for (let u = 0; u < users; u++) {
        const user = await createUser(server.ctx, 'analyst');
        for (let s = 0; s < SESSIONS_PER_USER && written < transcripts; s++, written++)
          await writeSession(server.dataDir, user.id, `session-${s}.jsonl`, transcriptLines(written));
      }
      let extraction = 0;
      fake.responder = (body) => {
        // The fake's request log is for tests; here it would only grow the heap the run shares.
        fake.requests.length = 0;
        if (!isExtraction(body))
          return { kind: 'tool', input: { safe: true, reasons: [] }, delayMs: LLM_DELAY_MS };
        extraction += 1;
        const items = Array.from({ length: ITEMS_PER_TRANSCRIPT }, (_, i) => item(`Fact ${extraction}.${i}`));
        return { kind: 'tool', input: { items }, delayMs: LLM_DELAY_MS };
      };

      const llm = llmFor(fake);
      const sent: ExtractJsonRequest[] = [];
      const recording: LlmClient = {
        provider: llm.provider,
        model: llm.model,
        extractJson: (request) => {
          sent.push(request);
          return llm.extractJson(request);
        },
      };

      const started = performance.now();
      const report = await run(server, portFor(server, collector.pat), recording);
      const elapsed = performance.now() - started;
      if (report.counts.completed !== transcripts)
        throw new Error(`completed ${report.counts.completed} of ${transcripts} transcripts`);

      const replayStarted = performance.now();
      for (const request of sent) await llm.extractJson(request);
      const fakeLatency = performance.now() - replayStarted;
      const overhead = (elapsed - fakeLatency) / transcripts;
      return [
        {
          metric: 'overhead_per_transcript',
          target: overhead,
          baseline: fakeLatency / transcripts,
          unit: 'ms',
          op: '<=',
          limit: 20,
          ratio: overhead,
          note: `${transcripts} transcripts, ${sent.length} LLM calls of ${LLM_DELAY_MS} ms, ${report.counts.items_new} items; absolute limit in ms`,
        },
      ];
    } finally {
      await fake.close();
      await server.close();
    }
  },
};

export default memoryCollect;
