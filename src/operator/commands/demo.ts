import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { withLiveNotifications } from '../demo/live-notifications.js';
import { DEMO_SOURCE, registerDemo } from '../demo/registration.js';
import { generateSampleData } from '../demo/sample/generate.js';
import type { SampleSize } from '../demo/sample/sizes.js';
import { type DemoLogin, ensureDemoUsers } from '../demo/users.js';
import { loadInstance, openServingRuntime, secretsFor } from '../instance.js';
import { handleShutdown, serveContext } from './serve.js';

export interface DemoOptions {
  dataDir?: string;
  size: SampleSize;
  host?: string;
  port?: number;
  reset: boolean;
}

const say = (line: string) => process.stdout.write(`${line}\n`);

function banner(url: string, logins: DemoLogin[], credentialsPath: string): string {
  const width = Math.max(...logins.map((l) => l.email.length));
  return [
    '',
    `  Agnes demo is running at ${url}`,
    '',
    ...logins.map((l) => `    ${l.role.padEnd(8)} ${l.email.padEnd(width)}  ${l.password}`),
    '',
    `  These logins are kept in ${credentialsPath} (mode 0600).`,
    '  Stop with Ctrl+C; start again with `npm start` (the data is kept; --reset starts over).',
    '',
  ].join('\n');
}

/**
 * `agnes demo` (README flow 1): sample data generated once, extracted, registered, published and
 * profiled through the same sync pipeline production uses; then the server.
 */
export async function demo(options: DemoOptions): Promise<void> {
  const dataDir = resolve(options.dataDir ?? process.env.DATA_DIR ?? './demo-data');
  if (options.reset) await rm(dataDir, { recursive: true, force: true });
  await mkdir(dataDir, { recursive: true, mode: 0o750 });
  // The banner is what a demo user reads; request logs would bury it. LOG_LEVEL still wins.
  process.env.LOG_LEVEL ??= 'warn';
  const instance = loadInstance({ dataDir });
  const secrets = secretsFor(instance, true);
  const sampleDir = join(dataDir, 'sources', DEMO_SOURCE);
  if (!existsSync(join(sampleDir, '_manifest.json'))) {
    say(`Generating the sample data set (size ${options.size}) in ${sampleDir} …`);
    await generateSampleData({ outDir: sampleDir, size: options.size, seed: 42, format: 'parquet' });
  }
  const host = options.host ?? 'localhost';
  const config = await withLiveNotifications(
    instance.loaded.config,
    host,
    options.port ?? instance.loaded.config.server.port,
  );
  const ctx = await openServingRuntime({ ...instance, loaded: { ...instance.loaded, config } }, secrets, [
    { name: DEMO_SOURCE, type: 'local', config: { path: sampleDir } },
  ]);
  // Installed before the startup sync, so SIGTERM during it interrupts the job and exits cleanly.
  const shutdown = handleShutdown(ctx);
  const start = async () => {
    const { logins, users } = await ensureDemoUsers(ctx.repos, dataDir);
    await registerDemo(ctx.repos, users[0]!.id, users[1]!.id);
    if (shutdown.stopping) return;
    await ctx.start();
    say('Extracting, publishing and profiling the sample tables …');
    const job = await ctx.jobs.enqueueSync({ source: DEMO_SOURCE, requestedBy: users[0]!.id });
    const finished = await Promise.race([ctx.jobs.waitFor(job.id), shutdown.requested]);
    if (!finished || shutdown.stopping) return;
    if (finished.status !== 'succeeded') {
      ctx.log.warn({ status: finished.status, error: finished.error }, 'the demo sync did not fully succeed');
    }
    const credentials =
      relative(process.cwd(), join(dataDir, 'state', 'demo-credentials.txt')) || 'demo-credentials.txt';
    await serveContext(
      ctx,
      { host, port: options.port },
      (address) => {
        const url = address.replace('127.0.0.1', 'localhost').replace('[::1]', 'localhost');
        process.stdout.write(`${banner(url, logins, credentials)}\n`);
      },
      shutdown,
    );
  };
  await shutdown.hold(start());
}
