import type { InstanceConfig } from '../../core/config/index.js';
import { AgnesError } from '../../core/errors.js';
import type { PersonalAccessToken, Repositories } from '../../core/state/repositories/index.js';
import { generatePat } from './pat.js';

export interface IssuedPersonalToken {
  row: PersonalAccessToken;
  /** The token itself: shown once, never stored. */
  token: string;
}

const DAY_MS = 86_400_000;

/**
 * Creates a personal access token (04 §1.5): it always expires (default and maximum from
 * `auth.pat.*`), and a user holds at most `auth.pat.max_per_user` active ones. The count and the
 * insert share one transaction, so concurrent creations cannot pass the limit together.
 */
export function issuePersonalToken(
  repos: Repositories,
  config: InstanceConfig,
  input: { userId: string; name: string; expiresInDays?: number },
): Promise<IssuedPersonalToken> {
  const { default_expiry_days, max_expiry_days, max_per_user } = config.auth.pat;
  const days = input.expiresInDays ?? default_expiry_days;
  if (!Number.isInteger(days) || days < 1 || days > max_expiry_days) {
    throw new AgnesError('validation_failed', `expiry must be 1–${max_expiry_days} days`);
  }
  const pat = generatePat();
  return repos.transaction(async (r) => {
    if ((await r.tokens.countActiveByUser(input.userId)) >= max_per_user) {
      throw new AgnesError('too_many_tokens', `at most ${max_per_user} active tokens per user`);
    }
    const row = await r.tokens.create({
      user_id: input.userId,
      name: input.name,
      token_hash: pat.hash,
      prefix: pat.prefix,
      expires_at: new Date(Date.now() + days * DAY_MS).toISOString(),
    });
    return { row, token: pat.token };
  });
}
