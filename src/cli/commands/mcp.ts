import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { MeResponse } from '../../contract/index.js';
import { defaultSection } from '../../core/config/schema.js';
import { errorMessage } from '../../core/errors.js';
import { createMcpServer } from '../../core/mcp/server.js';
import { PACKAGE_VERSION } from '../../core/package-info.js';
import { loadSkills } from '../../core/skills.js';
import type { ApiClient } from '../client.js';
import { type CliContext, connect } from '../context.js';
import { CliError, EXIT } from '../errors.js';
import { cliBackend } from '../mcp/backend.js';
import { LocalQueryEngine } from '../mcp/local-engine.js';
import { syncedTables } from '../mcp/synced.js';

/**
 * The credential is checked before serving (14 §4): none, or refused by the server → exit 3. A
 * server that cannot be reached does not stop `da mcp`: local queries still work.
 */
async function signedIn(ctx: CliContext, client: ApiClient): Promise<MeResponse | null> {
  try {
    return await client.json<MeResponse>('GET', '/auth/me');
  } catch (error) {
    if (error instanceof CliError && error.exitCode === EXIT.unauthenticated) throw error;
    ctx.out.warn(`${errorMessage(error)}; only local queries will work until the server answers`);
    return null;
  }
}

/** Resolves with why serving ends: stdin ended (the client went away) or a signal asked to stop. */
function untilDone(): Promise<'eof' | 'signal'> {
  return new Promise((resolve) => {
    process.stdin.once('end', () => resolve('eof'));
    process.stdin.once('close', () => resolve('eof'));
    process.once('SIGTERM', () => resolve('signal'));
    process.once('SIGINT', () => resolve('signal'));
  });
}

type RequestId = string | number;

/**
 * Counts the requests read but not yet answered, so that a client which writes its requests and
 * closes stdin (a script piping JSON-RPC) still gets every answer before `da mcp` exits.
 */
function trackAnswers(transport: StdioServerTransport): { drained(): Promise<void> } {
  const pending = new Set<RequestId>();
  let wake: (() => void) | null = null;
  const receive = transport.onmessage;
  transport.onmessage = (message) => {
    if ('method' in message && 'id' in message) pending.add(message.id as RequestId);
    receive?.(message);
  };
  const send = transport.send.bind(transport);
  transport.send = async (message) => {
    await send(message);
    if (!('method' in message) && 'id' in message) {
      pending.delete(message.id as RequestId);
      if (pending.size === 0) wake?.();
    }
  };
  return {
    drained: () =>
      pending.size === 0
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            wake = resolve;
          }),
  };
}

/**
 * `da mcp` (14 §4): the MCP server over stdio for an agent on this laptop, newline-delimited
 * JSON-RPC on stdin and stdout. Nothing else is ever written to stdout; diagnostics go to stderr.
 */
export async function mcp(ctx: CliContext): Promise<number> {
  const { client, server } = await connect(ctx, { requireAuth: true });
  const me = await signedIn(ctx, client);
  const statePath = ctx.store.syncStatePath(server, ctx.localDir);
  const limits = defaultSection('mcp');
  const settings = defaultSection('query');
  const engine = await LocalQueryEngine.open({
    settings,
    localDir: ctx.localDir,
    // The sync state is outside every allow-list: the lock-down self-check must fail to read it.
    probePath: statePath,
    onPossibleBypass: (message) =>
      process.stderr.write(
        `da mcp: a local query was refused inside the engine: ${message.split('\n')[0]}\n`,
      ),
  });
  const backend = cliBackend({
    client,
    engine,
    role: me?.role ?? null,
    synced: () => syncedTables(statePath, server, ctx.localDir),
  });
  const mcpServer = createMcpServer(backend, {
    version: PACKAGE_VERSION,
    limits: {
      maxLimit: settings.max_limit,
      defaultLimit: limits.default_limit,
      maxResultChars: limits.max_result_chars,
    },
    guides: loadSkills,
    onUnexpected: (error) => process.stderr.write(`da mcp: ${errorMessage(error)}\n`),
  });
  const done = untilDone();
  const transport = new StdioServerTransport();
  await mcpServer.connect(transport);
  const answers = trackAnswers(transport);
  const who = me ? ` as ${me.email} (role ${me.role})` : '';
  process.stderr.write(`da mcp: serving Agnes at ${server}${who} on stdio\n`);
  // A signal stops at once; the end of stdin first answers what was already asked.
  if ((await done) === 'eof') await answers.drained();
  await mcpServer.close();
  engine.close();
  // Stdin may still be open after a signal; nothing more is read from it.
  process.stdin.destroy();
  return EXIT.ok;
}
