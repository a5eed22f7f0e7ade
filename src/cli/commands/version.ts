import { PACKAGE_VERSION } from '../../core/package-info.js';
import { type CliContext, connect } from '../context.js';
import { probeHealth } from '../inspect.js';

/** `da version`: the CLI's version and, when a server is configured and answers, the server's. */
export async function version(ctx: CliContext): Promise<void> {
  const configured = ctx.options.server ?? ctx.env.DA_SERVER ?? (await ctx.store.readConfig()).server;
  let server: { url: string; reachable: boolean; version: string | null } | null = null;
  if (configured) {
    const { server: url, client } = await connect(ctx);
    const health = await probeHealth(client);
    server = { url, reachable: health.reachable, version: health.version };
  }
  ctx.out.result({ version: PACKAGE_VERSION, server }, () =>
    [
      `da ${PACKAGE_VERSION}`,
      ...(server
        ? [`server ${server.url}: ${server.reachable ? `agnes ${server.version}` : 'unreachable'}`]
        : []),
    ].join('\n'),
  );
}
