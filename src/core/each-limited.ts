/**
 * Runs `fn` over `items`, at most `limit` at a time. I/O fanned out without a bound fills libuv's
 * small thread pool (file writes, fsyncs), and every other request waiting on a file then queues
 * behind the whole batch.
 */
export async function eachLimited<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
