import { hostname } from 'node:os';
import type { CreatedToken, MeResponse, PersonalTokenList, TokenResponse } from '../../contract/index.js';
import { ApiClient } from '../client.js';
import { type CliContext, connect, resolveServer, USER_AGENT } from '../context.js';
import { CliError, EXIT } from '../errors.js';
import { ask, readStdin } from '../prompt.js';

export interface LoginOptions {
  email?: string;
  passwordStdin?: boolean;
  magicLink?: boolean;
  token?: string;
  tokenName?: string;
  expiresDays?: number;
}

const EXPIRY_WARNING_DAYS = 14;

function expiryText(expiresAt: string | null): string {
  return expiresAt ? `token expires ${expiresAt.slice(0, 10)}` : 'token does not expire';
}

function sessionClient(server: string, token: string): ApiClient {
  return new ApiClient({ server, token, userAgent: USER_AGENT });
}

/** Trades a short session for a personal access token, then ends the session (06 §5.1 authentication). */
export async function tokenFromSession(
  server: string,
  session: TokenResponse,
  options: LoginOptions,
): Promise<CreatedToken> {
  const client = sessionClient(server, session.access_token);
  const body: Record<string, unknown> = { name: options.tokenName ?? `da on ${hostname()}`.slice(0, 100) };
  if (options.expiresDays !== undefined) body.expires_in_days = options.expiresDays;
  const created = await client.json<CreatedToken>('POST', '/api/tokens', { body });
  await client.request('POST', '/auth/logout', { body: {} }).catch(() => undefined);
  return created;
}

function tokenFromLink(text: string): string {
  const trimmed = text.trim();
  try {
    const token = new URL(trimmed).searchParams.get('token');
    if (token) return token;
  } catch {
    // not a URL: the token itself
  }
  return trimmed;
}

export async function login(ctx: CliContext, options: LoginOptions): Promise<void> {
  const server = await resolveServer(ctx);
  const anonymous = new ApiClient({
    server,
    token: null,
    userAgent: USER_AGENT,
    verbose: ctx.options.verbose,
  });
  let token: string;
  let tokenId: string | null = null;
  let tokenName: string | null = null;
  let expiresAt: string | null = null;
  if (options.token !== undefined) {
    token = options.token === '-' ? await readStdin() : options.token;
  } else {
    const email = options.email ?? (await ask('Email: ', { flag: '--email' }));
    let session: TokenResponse;
    if (options.magicLink) {
      await anonymous.request('POST', '/auth/email/send-link', { body: { email } });
      ctx.out.info(`A sign-in link was sent to ${email} (if the account exists).`);
      const pasted = process.stdin.isTTY
        ? await ask('Paste the link or the token from the email: ', { flag: '--magic-link (on a terminal)' })
        : await readStdin();
      session = await anonymous.json<TokenResponse>('POST', '/auth/email/verify', {
        body: { token: tokenFromLink(pasted), email },
      });
    } else {
      const password = options.passwordStdin
        ? await readStdin()
        : await ask('Password: ', { secret: true, flag: '--password-stdin' });
      session = await anonymous.json<TokenResponse>('POST', '/auth/password/login', {
        body: { email, password },
      });
    }
    const created = await tokenFromSession(server, session, options);
    token = created.token;
    tokenId = created.id;
    tokenName = created.name;
    expiresAt = created.expires_at;
  }
  const me = await sessionClient(server, token).json<MeResponse>('GET', '/auth/me');
  await ctx.store.saveCredential(server, {
    token,
    token_id: tokenId ?? me.auth.token_id,
    token_name: tokenName,
    email: me.email,
    expires_at: expiresAt ?? me.auth.expires_at,
  });
  const config = await ctx.store.readConfig();
  await ctx.store.writeConfig({ ...config, server });
  ctx.out.result(
    { server, email: me.email, role: me.role, expires_at: expiresAt ?? me.auth.expires_at },
    () =>
      `Logged in to ${server} as ${me.email} (role ${me.role}); ${expiryText(expiresAt ?? me.auth.expires_at)}`,
  );
}

export async function whoami(ctx: CliContext): Promise<void> {
  const { server, client, credential } = await connect(ctx, { requireAuth: true });
  const me = await client.json<MeResponse>('GET', '/auth/me');
  const expires = me.auth.expires_at;
  if (expires && Date.parse(expires) - Date.now() < EXPIRY_WARNING_DAYS * 86_400_000) {
    ctx.out.warn(`the token expires on ${expires.slice(0, 10)}; run: da auth login`);
  }
  ctx.out.result(
    {
      server,
      id: me.id,
      email: me.email,
      name: me.name,
      role: me.role,
      groups: me.groups.map((g) => g.name),
      token_name: credential?.token_name ?? null,
      expires_at: expires,
    },
    () =>
      [
        `${me.email}${me.name ? ` (${me.name})` : ''}`,
        `  role    ${me.role}`,
        `  groups  ${me.groups.map((g) => g.name).join(', ') || '—'}`,
        `  server  ${server}`,
        `  token   ${credential?.token_name ?? (ctx.env.DA_TOKEN ? 'DA_TOKEN' : 'unnamed')}; ${expiryText(expires)}`,
      ].join('\n'),
  );
}

export async function logout(ctx: CliContext): Promise<void> {
  const server = await resolveServer(ctx);
  const { client, credential } = await connect(ctx);
  if (!credential && !ctx.env.DA_TOKEN)
    throw new CliError(EXIT.unauthenticated, `not signed in to ${server}`, 'not_authenticated');
  let revoked = true;
  try {
    await client.request('POST', '/auth/logout', { body: {} });
  } catch (error) {
    if (!(error instanceof CliError) || error.exitCode !== EXIT.unauthenticated) {
      revoked = false;
      ctx.out.warn('could not revoke the token on the server; revoke it on your account page');
    }
  }
  await ctx.store.removeCredential(server);
  ctx.out.result({ server, revoked }, () => `Logged out of ${server}`);
}

export async function listTokens(ctx: CliContext): Promise<void> {
  const { client } = await connect(ctx, { requireAuth: true });
  const { tokens } = await client.json<PersonalTokenList>('GET', '/api/tokens');
  ctx.out.result(
    { tokens },
    () =>
      tokens
        .map(
          (t) =>
            `${t.id}  ${t.prefix}…  ${t.name}  ${t.revoked_at ? 'revoked' : expiryText(t.expires_at)}${t.last_used_at ? `; last used ${t.last_used_at.slice(0, 10)}` : ''}`,
        )
        .join('\n') || 'No tokens.',
  );
}

export async function revokeToken(ctx: CliContext, id: string): Promise<void> {
  const { client } = await connect(ctx, { requireAuth: true });
  await client.request('DELETE', `/api/tokens/${encodeURIComponent(id)}`);
  ctx.out.result({ revoked: id }, () => `Revoked ${id}`);
}
