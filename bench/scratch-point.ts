import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { percentile } from './lib.js';
import { directFacts, queryFixture } from './query-support.js';
const dir = await mkdtemp(join(tmpdir(), 'pt-'));
const fx = await queryFixture(dir, 3_000_000);
const direct = await directFacts(fx.factsFile, fx.server.ctx.config.query.threads + 1);
const sql = process.argv[2] ?? 'SELECT * FROM facts WHERE id = 4242';
const caller = { userId: 'u1', admin: false, readable: ['facts'], isVisible: () => true };
const engine = fx.server.ctx.query;
const t = { http: [] as number[], engine: [] as number[], direct: [] as number[], guard: [] as number[] };
await fx.query(sql); await engine.query({ caller, sql, requestId: 'x' }, 1000);
for (let i = 0; i < 150; i++) {
  let s = performance.now(); await fx.query(sql); t.http.push(performance.now() - s);
  s = performance.now(); await engine.query({ caller, sql, requestId: 'x' }, 1000); t.engine.push(performance.now() - s);
  s = performance.now(); const r = await direct.conn.runAndReadAll(sql); JSON.stringify(r.getRowsJson()); t.direct.push(performance.now() - s);
}
for (const [k, v] of Object.entries(t)) if (v.length) console.log(k.padEnd(8), 'p50', percentile(v, 50).toFixed(2), 'p95', percentile(v, 95).toFixed(2));
direct.close(); await fx.close();
const T = (globalThis as any).__T;
for (const [k, v] of Object.entries(T) as [string, number[]][]) console.log(k.padEnd(8), 'p50', percentile(v, 50).toFixed(3), 'p95', percentile(v, 95).toFixed(3));
