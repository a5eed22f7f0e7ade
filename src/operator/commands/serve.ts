import type { Runtime } from '../../runtime/runtime.js';
import { type AgnesApp, buildApp } from '../../server/app.js';
import { type Instance, loadInstance, openServingRuntime, secretsFor } from '../instance.js';

export interface ServeOptions {
  host?: string;
  port?: number;
}

const SHUTDOWN_GRACE_MS = 25_000;

/** Graceful shutdown, installed before any startup work so a signal during startup is handled too. */
export interface Shutdown {
  /** True once SIGTERM/SIGINT arrived; startup code stops at its next step. */
  readonly stopping: boolean;
  /** Resolves when the signal arrives (to stop waiting on startup work that will not finish). */
  readonly requested: Promise<void>;
  /** Startup work the shutdown lets settle before it closes what that work uses. */
  hold<T>(work: Promise<T>): Promise<T>;
  /** The app to close once it exists. */
  attach(app: AgnesApp): void;
}

/**
 * SIGTERM/SIGINT: stop the runtime's services (running jobs are marked `interrupted`, running
 * queries interrupted), let startup work settle, then close the app (it stops accepting, lets
 * in-flight requests finish, 25 s at most, and closes the runtime), exit 0.
 */
export function handleShutdown(ctx: Runtime): Shutdown {
  let app: AgnesApp | null = null;
  let stopping = false;
  let signalled!: () => void;
  const requested = new Promise<void>((resolve) => {
    signalled = resolve;
  });
  const held: Promise<unknown>[] = [];
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    signalled();
    ctx.log.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      ctx.log.warn('graceful shutdown timed out');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS + 5_000);
    force.unref();
    try {
      // Services first, so startup work waiting on a job or a query ends now rather than at its
      // timeout; the app's own preClose would stop them too, but it does not exist before startup ends.
      await ctx.stop();
      await Promise.allSettled(held);
      if (app) await app.close();
      else await ctx.close();
      process.exit(0);
    } catch (error) {
      ctx.log.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  return {
    get stopping() {
      return stopping;
    },
    requested,
    hold(work) {
      held.push(work);
      return work;
    },
    attach(built) {
      app = built;
    },
  };
}

/** Starts the app on an opened context; publishes a first generation when none is readable. */
export async function serveContext(
  ctx: Runtime,
  options: ServeOptions,
  onListening?: (url: string) => void,
  shutdown: Shutdown = handleShutdown(ctx),
): Promise<void> {
  const start = async () => {
    if (!(await ctx.orchestrator.published())) await ctx.orchestrator.rebuild();
    if (shutdown.stopping) return;
    const app = await buildApp(ctx);
    if (shutdown.stopping) return;
    shutdown.attach(app);
    const host = options.host ?? ctx.config.server.host;
    const port = options.port ?? ctx.config.server.port;
    const address = await app.listen({ host, port });
    onListening?.(address);
  };
  await shutdown.hold(start());
}

export async function serve(options: ServeOptions): Promise<void> {
  const instance: Instance = loadInstance();
  const secrets = secretsFor(instance);
  const ctx = await openServingRuntime(instance, secrets);
  await serveContext(ctx, options);
}
