import type { FastifyBaseLogger } from 'fastify';
import type { InstanceConfig } from '../../../core/config/index.js';
import { AgnesError, errorMessage } from '../../../core/errors.js';
import type { Repositories, User } from '../../../core/state/repositories/index.js';
import type { EmailLimiter } from '../../plugins/rate-limits.js';
import { sessionsCutoff } from '../jwt.js';
import { linkMail, type Mailer } from '../mailer.js';
import { hashPassword } from '../passwords.js';
import { randomLinkToken, sha256Hex } from '../pat.js';
import { enforcePolicy } from './password.js';

export const RESET_SENT_MESSAGE = 'If the address belongs to an account, a reset link is on its way.';

const invalidToken = () =>
  new AgnesError('invalid_token', 'this link is invalid, expired or already used', { status: 400 });

export interface InviteResult {
  invite_sent: boolean;
  setup_url: string | null;
  expires_at: string;
}

/** A fresh invite (04 §1.7): the previous one stops working; the URL is returned when no mail went out. */
export async function issueInvite(
  repos: Repositories,
  config: InstanceConfig,
  mailer: Mailer | null,
  user: User,
  log: FastifyBaseLogger,
): Promise<InviteResult> {
  if (user.is_service) throw new AgnesError('service_account', 'service accounts sign in with tokens only');
  const token = randomLinkToken();
  const now = new Date();
  await repos.users.update(user.id, {
    setup_token: sha256Hex(token),
    setup_token_created: now.toISOString(),
  });
  const url = new URL('/auth/password/setup', config.server.public_url);
  url.searchParams.set('token', token);
  const expires = new Date(now.getTime() + config.auth.invite_ttl_hours * 3_600_000).toISOString();
  if (!mailer) return { invite_sent: false, setup_url: url.toString(), expires_at: expires };
  const instance = config.instance.name;
  try {
    await mailer.send(
      linkMail({
        to: user.email,
        subject: `Your ${instance} account`,
        intro: `An account on ${instance} was created for you. Choose your password here:`,
        link: url.toString(),
        validity: `${config.auth.invite_ttl_hours} hours`,
        instance,
      }),
    );
    return { invite_sent: true, setup_url: null, expires_at: expires };
  } catch (error) {
    log.warn({ err: errorMessage(error) }, 'invite mail not sent');
    return { invite_sent: false, setup_url: url.toString(), expires_at: expires };
  }
}

/** Sets the password through an invite (setup) or reset link: single use, expiring, one error message. */
export async function completePasswordLink(
  repos: Repositories,
  config: InstanceConfig,
  kind: 'setup' | 'reset',
  input: { token: string; password: string; email?: string },
): Promise<User> {
  if (!/^[A-Za-z0-9_-]{20,100}$/.test(input.token)) throw invalidToken();
  const hash = sha256Hex(input.token);
  const holder =
    kind === 'setup' ? await repos.users.getBySetupToken(hash) : await repos.users.getByResetToken(hash);
  if (!holder?.active || holder.is_service) throw invalidToken();
  if (input.email !== undefined && input.email.trim().toLowerCase() !== holder.email) throw invalidToken();
  enforcePolicy(config, input.password, holder.email);
  const lifetimeMs =
    kind === 'setup' ? config.auth.invite_ttl_hours * 3_600_000 : config.auth.reset_ttl_minutes * 60_000;
  const passwordHash = await hashPassword(input.password);
  const claimed = await repos.users.claimToken(kind, hash, new Date(Date.now() - lifetimeMs).toISOString());
  if (!claimed) throw invalidToken();
  const updated = await repos.users.update(claimed.id, {
    password_hash: passwordHash,
    sessions_valid_after: sessionsCutoff().toISOString(),
    last_login_at: new Date().toISOString(),
  });
  return updated ?? claimed;
}

/** Starts a reset (04 §1.7): same answer for every address; the mail goes out after the response. */
export async function requestPasswordReset(
  deps: {
    repos: Repositories;
    config: InstanceConfig;
    mailer: Mailer | null;
    perEmail: EmailLimiter;
    log: FastifyBaseLogger;
  },
  email: string,
): Promise<void> {
  if (!deps.mailer)
    throw new AgnesError('email_not_configured', 'password reset by email is not available on this instance');
  await deps.perEmail.consume(email);
  const mailer = deps.mailer;
  setImmediate(async () => {
    try {
      const user = await deps.repos.users.getByEmail(email);
      if (!user?.active || user.is_service) return;
      const token = randomLinkToken();
      await deps.repos.users.update(user.id, {
        reset_token: sha256Hex(token),
        reset_token_created: new Date().toISOString(),
      });
      const url = new URL('/auth/password/reset', deps.config.server.public_url);
      url.searchParams.set('token', token);
      const instance = deps.config.instance.name;
      await mailer.send(
        linkMail({
          to: user.email,
          subject: `Reset your ${instance} password`,
          intro: `Use this link to choose a new password for ${instance}:`,
          link: url.toString(),
          validity: `${deps.config.auth.reset_ttl_minutes} minutes`,
          instance,
        }),
      );
    } catch (error) {
      deps.log.warn({ err: errorMessage(error) }, 'reset mail not sent');
    }
  });
}
