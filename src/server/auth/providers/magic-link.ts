import type { FastifyBaseLogger } from 'fastify';
import type { InstanceConfig } from '../../../core/config/index.js';
import { AgnesError, errorMessage } from '../../../core/errors.js';
import type { Repositories, User } from '../../../core/state/repositories/index.js';
import type { EmailLimiter } from '../../plugins/rate-limits.js';
import { linkMail, type Mailer } from '../mailer.js';
import { randomLinkToken, sha256Hex } from '../pat.js';
import { safeNext } from '../redirects.js';

export const LINK_SENT_MESSAGE = 'If the address belongs to an account, a sign-in link is on its way.';

export interface MagicLinkDeps {
  repos: Repositories;
  config: InstanceConfig;
  mailer: Mailer | null;
  perEmail: EmailLimiter;
  log: FastifyBaseLogger;
}

export function magicLinksEnabled(deps: Pick<MagicLinkDeps, 'config' | 'mailer'>): boolean {
  return deps.mailer !== null && deps.config.auth.magic_link.enabled;
}

/**
 * Starts a magic-link sign-in (04 §1.3). The answer is the same for every address; the lookup and
 * the mail happen after the response, so its timing says nothing about the account.
 */
export async function requestMagicLink(
  deps: MagicLinkDeps,
  email: string,
  next: string | undefined,
): Promise<void> {
  if (!magicLinksEnabled(deps))
    throw new AgnesError('email_not_configured', 'sign-in links are not available on this instance');
  await deps.perEmail.consume(email);
  setImmediate(() => {
    sendLink(deps, email, next).catch((error: unknown) =>
      deps.log.warn({ err: errorMessage(error) }, 'magic link not sent'),
    );
  });
}

async function sendLink(deps: MagicLinkDeps, email: string, next: string | undefined): Promise<void> {
  const user = await deps.repos.users.getByEmail(email);
  if (!user?.active || user.is_service) return;
  const token = randomLinkToken();
  const ttl = deps.config.auth.magic_link.ttl_minutes;
  await deps.repos.tokens.createMagicLink({
    token_hash: sha256Hex(token),
    user_id: user.id,
    expires_at: new Date(Date.now() + ttl * 60_000).toISOString(),
    next_path: next ? safeNext(next) : null,
  });
  const link = new URL('/auth/email/verify', deps.config.server.public_url);
  link.searchParams.set('token', token);
  const instance = deps.config.instance.name;
  await deps.mailer!.send(
    linkMail({
      to: user.email,
      subject: `Sign in to ${instance}`,
      intro: `Use this link to sign in to ${instance}:`,
      link: link.toString(),
      validity: `${ttl} minutes`,
      instance,
    }),
  );
  deps.log.info({ user: user.id }, 'magic link sent');
}

/** Consumes a link token atomically; unknown, used and expired links are one 401. */
export async function consumeMagicLink(
  repos: Repositories,
  token: string,
  email: string | undefined,
): Promise<{ user: User; next: string | null }> {
  const invalid = new AgnesError('invalid_link', 'this sign-in link is invalid or has expired');
  if (!/^[A-Za-z0-9_-]{20,100}$/.test(token)) throw invalid;
  const link = await repos.tokens.consumeMagicLink(sha256Hex(token));
  if (!link) throw invalid;
  const user = await repos.users.getById(link.user_id);
  if (!user?.active || user.is_service) throw invalid;
  if (email !== undefined && email.trim().toLowerCase() !== user.email) throw invalid;
  await repos.users.update(user.id, { last_login_at: new Date().toISOString() });
  return { user, next: link.next_path };
}
