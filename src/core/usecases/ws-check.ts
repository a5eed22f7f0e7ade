import type { WsConnection } from '../../contract/index.js';
import type { Repositories } from '../state/repositories/index.js';

/** Ids per query: well under SQLite's bound on parameters, for batches of up to 10,000 sockets. */
const CHUNK = 500;

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

async function inChunks<T, R>(ids: readonly T[], load: (chunk: T[]) => Promise<R[]>): Promise<R[]> {
  const out: R[] = [];
  for (const chunk of chunks([...new Set(ids)])) out.push(...(await load(chunk)));
  return out;
}

/**
 * Whether each open WebSocket may stay open (03 §17 `ws-check`, 08 §9): its user is active, its
 * credential is not revoked, it has not expired, and it was issued no earlier than the user's
 * `sessions_valid_after`. A ticket's socket is judged by the session it was issued from.
 */
export async function checkWsConnections(
  repos: Pick<Repositories, 'users' | 'tokens'>,
  connections: readonly WsConnection[],
  now: Date,
): Promise<boolean[]> {
  const users = new Map(
    (
      await inChunks(
        connections.map((c) => c.user_id),
        (ids) => repos.users.getMany(ids),
      )
    ).map((u) => [u.id, u]),
  );
  const sessionIds = connections.filter((c) => c.credential_kind !== 'pat').map((c) => c.credential_id);
  const revoked = new Set(
    await inChunks(sessionIds, async (ids) => [...(await repos.tokens.revokedAmong(ids))]),
  );
  const patIds = connections.filter((c) => c.credential_kind === 'pat').map((c) => c.credential_id);
  const pats = new Map(
    (await inChunks(patIds, (ids) => repos.tokens.getMany(ids))).map((token) => [token.id, token]),
  );
  const nowMs = now.getTime();
  const live = (expiresAt: string | null) => expiresAt === null || Date.parse(expiresAt) > nowMs;
  return connections.map((connection) => {
    const user = users.get(connection.user_id);
    if (!user?.active) return false;
    if (connection.credential_kind === 'pat') {
      const token = pats.get(connection.credential_id);
      return token !== undefined && token.user_id === user.id && !token.revoked_at && live(token.expires_at);
    }
    if (revoked.has(connection.credential_id) || connection.expires_at === null) return false;
    if (!live(connection.expires_at)) return false;
    const validAfter = user.sessions_valid_after;
    return !validAfter || Date.parse(connection.issued_at) >= Date.parse(validAfter);
  });
}
