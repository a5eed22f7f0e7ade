import { performance } from 'node:perf_hooks';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { type Benchmark, percentile } from './lib.js';
import { queryFixture } from './query-support.js';

const POINT = 'SELECT * FROM facts WHERE id = 4242';
const CALL = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: { name: 'query', arguments: { sql: POINT } },
});

const benchmark: Benchmark = {
  name: 'mcp-query',
  description:
    'a point lookup through the MCP query tool over streamable HTTP (warm session and sandbox) against POST /api/query for the same SQL, both sent with fetch and interleaved in the same run',
  async run(ctx) {
    const rows = ctx.smoke ? 20_000 : 10_000_000;
    const runs = ctx.smoke ? 3 : 300;
    const fixture = await queryFixture(ctx.workDir, rows);
    // The SDK's client opens the session (handshake included); the timed calls are plain fetch,
    // like the baseline's, so both figures are the server's and not the client library's.
    const agent = new Client({ name: 'agnes-bench', version: '1' });
    const transport = new StreamableHTTPClientTransport(new URL(`${fixture.server.url}/mcp`), {
      requestInit: { headers: { authorization: fixture.analyst.auth } },
    });
    await agent.connect(transport);
    const headers = {
      authorization: fixture.analyst.auth,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-session-id': transport.sessionId ?? '',
      'mcp-protocol-version': transport.protocolVersion ?? '2025-06-18',
    };
    const viaMcp = async () => {
      const response = await fetch(`${fixture.server.url}/mcp`, { method: 'POST', headers, body: CALL });
      const answer = (await response.json()) as {
        result?: { isError?: boolean; structuredContent?: { row_count: number } };
      };
      if (answer.result?.isError || answer.result?.structuredContent?.row_count !== 1)
        throw new Error(`mcp query: ${JSON.stringify(answer)}`);
    };
    const viaApi = async () => {
      const response = await fixture.query(POINT);
      if (response.status !== 200) throw new Error(`POST /api/query: ${response.status} ${response.body}`);
    };
    const viaSdk = () => agent.callTool({ name: 'query', arguments: { sql: POINT } });
    try {
      for (let i = 0; i < 10; i++) {
        await viaApi();
        await viaMcp();
        await viaSdk();
      }
      const timed = async (fn: () => Promise<unknown>, times: number[]) => {
        const start = performance.now();
        await fn();
        times.push(performance.now() - start);
      };
      const target: number[] = [];
      const baseline: number[] = [];
      for (let i = 0; i < runs; i++) {
        await timed(viaMcp, target);
        await timed(viaApi, baseline);
      }
      // Apart, for information: its client-side parsing runs on this event loop too.
      const sdk: number[] = [];
      for (let i = 0; i < runs; i++) await timed(viaSdk, sdk);
      const note = `${runs} interleaved runs over ${rows.toLocaleString('en')} rows; the SDK's own client in the same process: p50 ${percentile(sdk, 50).toFixed(2)} ms, p95 ${percentile(sdk, 95).toFixed(2)} ms`;
      return [
        {
          metric: 'point_p50',
          target: percentile(target, 50),
          baseline: percentile(baseline, 50),
          unit: 'ms',
          op: '<=',
          limit: 1.2,
          note,
        },
        {
          metric: 'point_p95',
          target: percentile(target, 95),
          baseline: percentile(baseline, 95),
          unit: 'ms',
          op: '<=',
          limit: 1.2,
          note,
        },
      ];
    } finally {
      await agent.close();
      await fixture.close();
    }
  },
};

export default benchmark;
