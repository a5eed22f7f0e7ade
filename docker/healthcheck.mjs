// The containers' health check: exit 0 when the URL answers 2xx within five seconds, else 1. The
// slim image has no curl or wget; node's own fetch does the request. Without an argument it asks
// the app in this container (`PORT`, default 8000) for `/api/health`, which answers 503 when the
// instance is unusable.
const url = process.argv[2] ?? `http://127.0.0.1:${process.env.PORT || 8000}/api/health`;

try {
  const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
  await response.body?.cancel();
  process.exitCode = response.ok ? 0 : 1;
} catch {
  process.exitCode = 1;
}
