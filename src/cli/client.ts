import { setTimeout as sleep } from 'node:timers/promises';
import type { ErrorBody } from '../contract/index.js';
import { CliError, EXIT, exitCodeForStatus } from './errors.js';

export interface ClientOptions {
  server: string;
  token: string | null;
  userAgent: string;
  /** Log each request (method, path, status, duration; never headers) to stderr. */
  verbose?: boolean;
  /** For tests: make retry waits instant. */
  backoffScale?: number;
}

export interface RequestOptions {
  body?: unknown;
  form?: Record<string, string>;
  query?: Record<string, string | number | boolean | undefined>;
  headers?: Record<string, string>;
  /** Send the Bearer token (default true). */
  auth?: boolean;
  /** Statuses returned to the caller instead of thrown. */
  accept?: number[];
  timeoutMs?: number;
  /** A streamed body (uploads); never retried. */
  rawBody?: BodyInit;
  /** Hand a 2xx response back with its body unread (`ApiResponse.body` is the stream), for exports. */
  stream?: boolean;
}

export interface ApiResponse<T> {
  status: number;
  headers: Headers;
  body: T;
}

const API_TIMEOUT_MS = 30_000;
const RETRY_DELAYS_MS = [500, 1000, 2000];
const RETRYABLE_STATUS = new Set([502, 503, 504]);
const MAX_RETRY_AFTER_S = 30;

function networkReason(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return cause.code;
  if ((error as Error).name === 'TimeoutError' || (error as Error).name === 'AbortError') return 'timeout';
  return cause?.message ?? (error as Error).message ?? 'network error';
}

/** Hints that say what to do next, keyed by the server's error code or status (06 §3 exit codes). */
function friendlyMessage(status: number, detail: string | undefined): string {
  if (status === 401) return 'not signed in, or the token is no longer valid; run: da auth login';
  if (status === 429) return detail ?? 'too many requests; try again shortly';
  return detail ?? `the server answered ${status}`;
}

/**
 * The CLI's HTTP client (06 §4): Bearer PAT, 30 s API timeout, retries of idempotent requests on
 * network errors and 502/503/504 with backoff, `Retry-After` honoured up to 30 s, no redirects.
 * Every failure becomes a CliError carrying the exit code of 06 §3.
 */
export class ApiClient {
  constructor(private readonly options: ClientOptions) {}

  get server(): string {
    return this.options.server;
  }

  url(path: string, query?: RequestOptions['query']): string {
    const url = new URL(`${this.options.server}${path}`);
    for (const [key, value] of Object.entries(query ?? {}))
      if (value !== undefined) url.searchParams.set(key, String(value));
    return url.toString();
  }

  headers(options: RequestOptions = {}): Record<string, string> {
    const headers: Record<string, string> = { 'user-agent': this.options.userAgent, ...options.headers };
    if (options.auth !== false && this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    return headers;
  }

  async request<T = unknown>(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<ApiResponse<T>> {
    const idempotent = (method === 'GET' || method === 'HEAD') && options.rawBody === undefined;
    const headers = this.headers(options);
    let body: BodyInit | undefined = options.rawBody;
    if (options.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(options.form).toString();
    } else if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    const attempts = idempotent ? RETRY_DELAYS_MS.length + 1 : 1;
    for (let attempt = 0; ; attempt++) {
      const started = performance.now();
      let response: Response;
      try {
        response = await fetch(this.url(path, options.query), {
          method,
          headers,
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(options.timeoutMs ?? API_TIMEOUT_MS),
          ...(options.rawBody ? { duplex: 'half' } : {}),
        } as RequestInit);
      } catch (error) {
        this.#log(method, path, 'network error', started);
        if (attempt + 1 < attempts) {
          await this.#wait(RETRY_DELAYS_MS[attempt]!);
          continue;
        }
        throw new CliError(
          EXIT.unreachable,
          `cannot reach ${this.options.server} (${networkReason(error)})`,
          'unreachable',
        );
      }
      this.#log(method, path, String(response.status), started);
      const retryAfter = Number(response.headers.get('retry-after'));
      const wantsRetry =
        (idempotent && RETRYABLE_STATUS.has(response.status)) ||
        ((response.status === 429 || response.status === 503) &&
          retryAfter > 0 &&
          retryAfter <= MAX_RETRY_AFTER_S);
      if (wantsRetry && attempt + 1 < Math.max(attempts, 2)) {
        await response.body?.cancel();
        await this.#wait(
          retryAfter > 0 ? Math.min(retryAfter, MAX_RETRY_AFTER_S) * 1000 : RETRY_DELAYS_MS[attempt]!,
        );
        continue;
      }
      if (options.stream && response.ok)
        return { status: response.status, headers: response.headers, body: response.body as T };
      return this.#finish<T>(response, options.accept ?? []);
    }
  }

  async json<T = unknown>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    return (await this.request<T>(method, path, options)).body;
  }

  async #finish<T>(response: Response, accept: number[]): Promise<ApiResponse<T>> {
    const text = await response.text();
    let parsed: unknown = text;
    if (text && (response.headers.get('content-type') ?? '').includes('json')) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    if ((response.status >= 200 && response.status < 300) || accept.includes(response.status)) {
      return { status: response.status, headers: response.headers, body: parsed as T };
    }
    const error = (parsed && typeof parsed === 'object' ? parsed : {}) as Partial<ErrorBody>;
    throw new CliError(
      exitCodeForStatus(response.status),
      friendlyMessage(response.status, error.detail),
      error.code ?? `http_${response.status}`,
      response.status,
    );
  }

  async #wait(ms: number): Promise<void> {
    const scale = this.options.backoffScale ?? 1;
    await sleep(Math.round((ms + Math.random() * 250) * scale));
  }

  #log(method: string, path: string, outcome: string, started: number): void {
    if (!this.options.verbose) return;
    process.stderr.write(
      `${method} ${path.split('?')[0]} ${outcome} ${Math.round(performance.now() - started)} ms\n`,
    );
  }
}
