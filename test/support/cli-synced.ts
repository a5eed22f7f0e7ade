import {
  type CliHome,
  type CliServer,
  cliHome,
  type DaResult,
  loginWithToken,
  runDa,
  withCliServer,
} from './cli.js';

/** The shop fixture server and an analyst's laptop that has synced `orders` and `events`. */
export interface SyncedLaptop {
  fixture: CliServer;
  home: CliHome;
  /** Runs `da ARGS` with the laptop's environment. */
  da(...args: string[]): Promise<DaResult>;
  close(): Promise<void>;
}

export async function syncedAnalyst(): Promise<SyncedLaptop> {
  const fixture = await withCliServer();
  const home = await cliHome();
  const da = (...args: string[]) => runDa(args, { env: home.env });
  await loginWithToken(home, fixture.server.url, fixture.analyst);
  const sync = await da('sync', '--table', 'orders', '--table', 'events', '--quiet');
  if (sync.code !== 0) throw new Error(`sync failed: ${sync.stdout}${sync.stderr}`);
  return {
    fixture,
    home,
    da,
    async close() {
      await fixture.close();
      await home.cleanup();
    },
  };
}
