import { AgnesError } from '../../core/errors.js';
import { issuePersonalToken } from '../../server/auth/personal-tokens.js';
import { printJson } from '../output.js';
import { withOperatorState } from '../state.js';
import { userByEmail } from './users.js';

/**
 * `agnes tokens create --user EMAIL --name N [--expires-days D]`: the token alone goes to stdout
 * (so it can be piped into a secret file) and is never shown again; details go to stderr.
 */
export function createTokenCommand(options: {
  user: string;
  name: string;
  expiresDays?: number;
}): Promise<number> {
  if (options.name.length < 1 || options.name.length > 100)
    throw new AgnesError('validation_failed', 'token name must be 1–100 characters');
  return withOperatorState(async ({ instance, repos }) => {
    const user = await userByEmail(repos, options.user);
    const { row, token } = await issuePersonalToken(repos, instance.loaded.config, {
      userId: user.id,
      name: options.name,
      expiresInDays: options.expiresDays,
    });
    process.stderr.write(
      `token ${row.id} "${row.name}" for ${user.email}, expires ${row.expires_at}; it is shown only once\n`,
    );
    process.stdout.write(`${token}\n`);
    return 0;
  });
}

/** `agnes tokens list --user EMAIL [--json]`: prefixes only, never the token or its hash. */
export function listTokensCommand(options: { user: string; json: boolean }): Promise<number> {
  return withOperatorState(async ({ repos }) => {
    const user = await userByEmail(repos, options.user);
    const rows = await repos.tokens.listByUser(user.id);
    const now = Date.now();
    const view = rows.map((t) => ({
      id: t.id,
      name: t.name,
      prefix: t.prefix,
      created_at: t.created_at,
      expires_at: t.expires_at,
      last_used_at: t.last_used_at,
      revoked_at: t.revoked_at,
      status: t.revoked_at
        ? 'revoked'
        : t.expires_at && Date.parse(t.expires_at) <= now
          ? 'expired'
          : 'active',
    }));
    if (options.json) printJson(view);
    else
      for (const t of view)
        process.stdout.write(
          `${t.id}\t${t.prefix}…\t${t.status}\t${t.name}\tcreated ${t.created_at}\texpires ${t.expires_at ?? 'never'}\tlast used ${t.last_used_at ?? 'never'}\n`,
        );
    return 0;
  });
}

/** `agnes tokens revoke ID`: any user's token; revoking twice is not an error. */
export function revokeTokenCommand(id: string): Promise<number> {
  return withOperatorState(async ({ repos }) => {
    const row = await repos.tokens.getById(id);
    if (!row) throw new AgnesError('not_found', `no token with id ${id}`);
    const revoked = await repos.tokens.revoke(row.id, row.user_id);
    process.stdout.write(revoked ? `revoked token ${row.id}\n` : `token ${row.id} was already revoked\n`);
    return 0;
  });
}
