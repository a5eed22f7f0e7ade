import type { Manifest, TokenResponse } from '../../contract/index.js';
import { type Check, fail, pass, reportChecks, warn } from '../checks.js';
import { ApiClient } from '../client.js';
import { type CliContext, connect, resolveServer, USER_AGENT } from '../context.js';
import { CliError, EXIT } from '../errors.js';
import { probeHealth, whoIsSignedIn } from '../inspect.js';
import { ask, readStdin } from '../prompt.js';
import { tokenFromSession } from './auth.js';

/** `da setup bootstrap` (06 §5.4): the first admin of a fresh server, signed in with a stored PAT. */
export async function bootstrap(
  ctx: CliContext,
  options: { name?: string; passwordStdin?: boolean },
  email: string,
): Promise<void> {
  const server = await resolveServer(ctx);
  const password = options.passwordStdin
    ? await readStdin()
    : await ask('Password for the first admin: ', { secret: true, flag: '--password-stdin' });
  const body: Record<string, unknown> = { email, password };
  if (options.name !== undefined) body.name = options.name;
  if (ctx.env.AGNES_BOOTSTRAP_TOKEN) body.bootstrap_token = ctx.env.AGNES_BOOTSTRAP_TOKEN;
  const anonymous = new ApiClient({
    server,
    token: null,
    userAgent: USER_AGENT,
    verbose: ctx.options.verbose,
  });
  let session: TokenResponse;
  try {
    session = await anonymous.json<TokenResponse>('POST', '/auth/bootstrap', { body });
  } catch (error) {
    if (error instanceof CliError && error.status === 403)
      throw new CliError(EXIT.forbidden, 'Bootstrap disabled: the server already has users', error.code, 403);
    if (error instanceof CliError && error.status === 401)
      throw new CliError(
        EXIT.unauthenticated,
        'the bootstrap token was refused; set AGNES_BOOTSTRAP_TOKEN to the server’s auth.bootstrap_token',
        error.code,
        401,
      );
    throw error;
  }
  const created = await tokenFromSession(server, session, {});
  await ctx.store.saveCredential(server, {
    token: created.token,
    token_id: created.id,
    token_name: created.name,
    email: session.email,
    expires_at: created.expires_at,
  });
  await ctx.store.writeConfig({ ...(await ctx.store.readConfig()), server });
  ctx.out.result(
    { server, email: session.email, role: session.role, expires_at: created.expires_at },
    () => `Bootstrapped ${server}: ${session.email} is the first admin and is signed in`,
  );
}

/** A GET that only cares about the status (HTML pages, the OpenAPI document). */
async function statusOf(client: ApiClient, path: string): Promise<number> {
  const response = await client.request('GET', path, {
    auth: false,
    accept: [301, 302, 303, 307, 308, 400, 401, 403, 404, 410, 500, 501],
  });
  return response.status;
}

/** `da setup verify` (06 §5.4): exit 1 on any failed check, in text and JSON mode alike. */
export async function verify(ctx: CliContext): Promise<number> {
  const { server, client, credential } = await connect(ctx);
  const checks: Check[] = [];
  const health = await probeHealth(client);
  if (!health.reachable) {
    checks.push(fail('server', health.error ?? 'unreachable', 'check the server URL and your network'));
    return reportChecks(ctx, checks);
  }
  checks.push(
    health.status === 'unhealthy'
      ? fail('server', `${server} is unhealthy`, 'check the server logs')
      : pass('server', `${server} ${health.status}, version ${health.version}`),
  );
  const me = await whoIsSignedIn(client, Boolean(ctx.env.DA_TOKEN || credential));
  checks.push(
    me ? pass('auth', `${me.email} (role ${me.role})`) : fail('auth', 'not signed in', 'run: da auth login'),
  );
  if (me) {
    const manifest = await client.json<Manifest>('GET', '/api/sync/manifest');
    const count = Object.keys(manifest.tables).length;
    checks.push(
      count > 0
        ? pass('data', `${count} tables readable`)
        : warn(
            'data',
            'no tables readable yet',
            'register tables (da admin tables discover --register) or ask for access',
          ),
    );
  }
  const login = await statusOf(client, '/login');
  checks.push(
    login === 200
      ? pass('web_ui', '/login answers')
      : fail('web_ui', `/login answered ${login}`, 'check the server build'),
  );
  const docs = await statusOf(client, '/openapi.json');
  checks.push(
    docs === 200
      ? pass('api_docs', '/openapi.json answers')
      : warn('api_docs', `/openapi.json answered ${docs} (API docs disabled?)`),
  );
  return reportChecks(ctx, checks);
}
