import { type ChildProcess, spawn } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, createConnection } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { writePaddedTable } from '../test/support/padded-parquet.js';
import { createUser } from '../test/support/server.js';
import { type ClientResult, runClient } from './http-client.js';
import { type Benchmark, type Measured, type Metric, measurePeakRss, median } from './lib.js';
import { benchServer } from './support.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const RSS_LIMIT = 64 * MiB;
const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((path) => existsSync(path));

/** The baseline of 10 §1: a plain `node:http` server streaming the file with a 1 MiB buffer. */
async function plainServer(file: string, size: number): Promise<{ url: string; server: Server }> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
    pipeline(createReadStream(file, { highWaterMark: MiB }), response).catch(() => response.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

async function waitForPort(port: number, child: ChildProcess, deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ port, host: '127.0.0.1' }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error('nginx did not start listening');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Debian's nginx serving the same file on loopback with its usual `sendfile on`, information only. */
async function startNginx(workDir: string, file: string): Promise<{ url: string; stop(): Promise<void> }> {
  const prefix = join(workDir, 'nginx');
  await mkdir(join(prefix, 'tmp'), { recursive: true });
  const port = await freePort();
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((kind) => `  ${kind}_temp_path ${join(prefix, 'tmp', kind)};`)
    .join('\n');
  // Workers of a root master would run as nobody, who cannot read the 0700 bench directory.
  const user = process.getuid?.() === 0 ? 'user root;\n' : '';
  const conf = `${user}daemon off;
worker_processes 1;
pid ${join(prefix, 'nginx.pid')};
error_log ${join(prefix, 'error.log')} warn;
events { worker_connections 64; }
http {
  access_log off;
  sendfile on;
  default_type application/octet-stream;
${temp}
  server {
    listen 127.0.0.1:${port};
    root ${dirname(file)};
  }
}
`;
  const confPath = join(prefix, 'nginx.conf');
  await writeFile(confPath, conf);
  const child = spawn(NGINX!, ['-p', prefix, '-e', join(prefix, 'error.log'), '-c', confPath], {
    stdio: 'ignore',
  });
  await waitForPort(port, child, 10_000);
  return {
    url: `http://127.0.0.1:${port}/${basename(file)}`,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

const mibPerSecond = (result: ClientResult) => result.bytes / MiB / (result.ms / 1000);

interface Sample {
  run: Measured<ClientResult>;
  /** CPU time of this process (the server side) during the run, in ms. */
  cpuMs: number;
}

async function sample(fn: () => Promise<ClientResult>): Promise<Sample> {
  const cpu = process.cpuUsage();
  const run = await measurePeakRss(fn);
  const used = process.cpuUsage(cpu);
  return { run, cpuMs: (used.user + used.system) / 1000 };
}

const throughput = (samples: Sample[]) => median(samples.map((s) => mibPerSecond(s.run.value)));
const cpuPerGiB = (samples: Sample[]) => median(samples.map((s) => s.cpuMs / (s.run.value.bytes / GiB)));
const peakGrowth = (samples: Sample[]) => Math.max(...samples.map((s) => s.run.rssGrowth));

const benchmark: Benchmark = {
  name: 'download-throughput',
  description:
    'GET /api/data/{id}/download of a 512 MiB Parquet file (PAT) vs a plain node:http createReadStream server, 1 and 4 clients',
  async run(ctx) {
    const bytes = ctx.smoke ? 4 * MiB : 512 * MiB;
    const rounds = ctx.smoke ? 1 : 3;
    const server = await benchServer(ctx.workDir);
    const written = await writePaddedTable(join(ctx.workDir, 'extracts'), 'bulk', 'big_facts', bytes);
    await server.ctx.orchestrator.rebuildSource('bulk');
    await server.ctx.repos.registry.register({
      id: 'big_facts',
      name: 'big_facts',
      source: 'bulk',
      source_type: 'local',
      is_public: true,
    });
    const state = await server.ctx.repos.syncState.getState('big_facts');
    const file = state?.files[0];
    if (!file) throw new Error('big_facts was not published');
    const path = join(ctx.workDir, file.path);
    const user = await createUser(server.ctx, 'analyst');
    const plain = await plainServer(path, written.size);
    const nginx = NGINX ? await startNginx(ctx.workDir, path) : null;
    const targetUrl = `${server.url}/api/data/big_facts/download`;
    const auth = { authorization: user.auth };
    try {
      const metrics: Metric[] = [];
      const info: string[] = [];
      let targetSamples: Sample[] = [];
      let baselineSamples: Sample[] = [];
      for (const concurrency of [1, 4]) {
        const get =
          (url: string, headers: Record<string, string> = {}) =>
          () =>
            runClient({ mode: 'get', url, headers, concurrency });
        const target: Sample[] = [];
        const baseline: Sample[] = [];
        const viaNginx: Sample[] = [];
        // Interleaved, so drift in a shared machine's speed hits every server alike.
        for (let round = 0; round < rounds; round++) {
          baseline.push(await sample(get(plain.url)));
          target.push(await sample(get(targetUrl, auth)));
          if (nginx) viaNginx.push(await sample(get(nginx.url)));
        }
        for (const s of target)
          if (s.run.value.bytes !== written.size * concurrency) throw new Error('short download');
        targetSamples = [...targetSamples, ...target];
        baselineSamples = [...baselineSamples, ...baseline];
        metrics.push({
          metric: `throughput_c${concurrency}`,
          target: Math.round(throughput(target)),
          baseline: Math.round(throughput(baseline)),
          unit: 'MiB/s',
          op: '>=',
          limit: 0.9,
          note: `${concurrency} client(s), ${Math.round(bytes / MiB)} MiB file, median of ${rounds}; server CPU ${Math.round(cpuPerGiB(target))} ms/GiB (baseline ${Math.round(cpuPerGiB(baseline))} ms/GiB)`,
        });
        info.push(
          nginx
            ? `# download-throughput c${concurrency} vs nginx (information): agnes=${Math.round(throughput(target))}MiB/s nginx=${Math.round(throughput(viaNginx))}MiB/s ratio=${(throughput(target) / throughput(viaNginx)).toFixed(3)}`
            : `# download-throughput c${concurrency} vs nginx: skipped, nginx is not installed`,
        );
      }
      for (const line of info) console.log(line);
      const growth = peakGrowth(targetSamples);
      metrics.push({
        metric: 'rss_growth',
        target: Math.round(growth / MiB),
        baseline: Math.round(peakGrowth(baselineSamples) / MiB),
        unit: 'MiB',
        op: '<=',
        limit: 1,
        ratio: growth / RSS_LIMIT,
        note: 'peak RSS growth of the server process over all target runs; absolute limit 64 MiB, ratio = growth / 64 MiB',
      });
      return metrics;
    } finally {
      await nginx?.stop();
      await new Promise((resolve) => plain.server.close(resolve));
      await server.close();
    }
  },
};

export default benchmark;
