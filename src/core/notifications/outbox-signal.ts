/**
 * Wakes the outbox dispatcher when notifications are queued, so delivery starts at once rather
 * than at its next poll. Every writer of notifications runs inside the app process (services reach
 * the app over HTTP), so an in-process signal reaches the dispatcher; it is only a hint: the poll
 * still finds rows another process or a crashed run left, and a wake with nothing due costs one
 * indexed query.
 */

type Listener = () => void;

const listeners = new Set<Listener>();

/** Calls `listener` whenever notifications with a pending channel were created; returns the unsubscribe. */
export function onNotificationsQueued(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function notificationsQueued(): void {
  for (const listener of listeners) listener();
}
