import { readFile } from 'node:fs/promises';
import { HttpFailure } from '../core/http/retry.js';

/**
 * How a service process reaches the app (01 §5, 08 §9): `AGNES_API_URL` and a service account's
 * personal access token, from `AGNES_TOKEN` or the file `AGNES_TOKEN_FILE`.
 */
export interface ServiceEndpoint {
  apiUrl: string;
  token?: string;
  tokenFile?: string;
}

export const DEFAULT_API_URL = 'http://127.0.0.1:8000';

/** A problem with the service's own settings: reported at startup, naming the variable. */
export class ServiceSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServiceSetupError';
  }
}

export function serviceEndpoint(env: NodeJS.ProcessEnv): ServiceEndpoint {
  const apiUrl = (env.AGNES_API_URL || DEFAULT_API_URL).replace(/\/+$/, '');
  let parsed: URL;
  try {
    parsed = new URL(apiUrl);
  } catch {
    throw new ServiceSetupError('AGNES_API_URL must be an absolute http(s) URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new ServiceSetupError('AGNES_API_URL must be an absolute http(s) URL');
  const token = env.AGNES_TOKEN?.trim() || undefined;
  const tokenFile = env.AGNES_TOKEN_FILE || undefined;
  if (!token && !tokenFile)
    throw new ServiceSetupError(
      "set AGNES_TOKEN or AGNES_TOKEN_FILE to a service account's personal access token",
    );
  return { apiUrl, ...(token ? { token } : {}), ...(tokenFile ? { tokenFile } : {}) };
}

/** The app refused a request: its status and error code, never its URL or the token. */
export class ServiceRefusal extends HttpFailure {
  constructor(
    status: number,
    readonly code: string | null,
    message: string,
  ) {
    super('status', status, message);
    this.name = 'ServiceRefusal';
  }
}

/**
 * JSON over HTTP to the app with the service's token. A token file is read at the first request
 * and again after every 401, before a single retry and then on every later request until one
 * succeeds, so an operator rotates the token by rewriting the file.
 */
export class ServiceClient {
  readonly #endpoint: ServiceEndpoint;
  readonly #timeoutMs: number;
  #fileToken: string | null = null;
  #reread = true;

  constructor(endpoint: ServiceEndpoint, options: { timeoutMs?: number } = {}) {
    this.#endpoint = endpoint;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  get(path: string): Promise<unknown> {
    return this.#request('GET', path);
  }

  post(path: string, body: unknown): Promise<unknown> {
    return this.#request('POST', path, body);
  }

  /** `GET /api/health` without a token: the app's status, or `unreachable`. */
  async health(): Promise<string> {
    try {
      const response = await this.#send('GET', '/api/health', null);
      const body = (await response.json().catch(() => null)) as { status?: unknown } | null;
      return typeof body?.status === 'string' ? body.status : `http ${response.status}`;
    } catch (error) {
      if (error instanceof HttpFailure) return 'unreachable';
      throw error;
    }
  }

  async #request(method: string, path: string, body?: unknown): Promise<unknown> {
    let { token, fresh } = await this.#token();
    let response = await this.#send(method, path, token, body);
    if (response.status === 401 && this.#endpoint.tokenFile && !fresh) {
      await response.body?.cancel();
      this.#reread = true;
      ({ token } = await this.#token());
      response = await this.#send(method, path, token, body);
    }
    if (response.status === 401 && this.#endpoint.tokenFile) this.#reread = true;
    let text: string;
    try {
      text = await response.text();
    } catch {
      throw new HttpFailure('connection', null, `${method} ${path}: the answer broke off`);
    }
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // A proxy's error page is still a refusal with a status; a broken success is no answer at all.
      if (response.ok) throw new HttpFailure('connection', null, `${method} ${path}: the answer is not JSON`);
    }
    if (response.ok) return parsed;
    const code = (parsed as { code?: unknown } | null)?.code;
    throw new ServiceRefusal(
      response.status,
      typeof code === 'string' ? code : null,
      `${method} ${path} answered ${response.status}${typeof code === 'string' ? ` ${code}` : ''}`,
    );
  }

  /** The token to send, and whether it was just read from the file (so a retry would read the same). */
  async #token(): Promise<{ token: string; fresh: boolean }> {
    const { token, tokenFile } = this.#endpoint;
    if (!tokenFile) return { token: token!, fresh: false };
    if (!this.#reread && this.#fileToken !== null) return { token: this.#fileToken, fresh: false };
    const read = (await readFile(tokenFile, 'utf8').catch(() => '')).trim();
    if (!read) throw new ServiceSetupError('AGNES_TOKEN_FILE cannot be read or is empty');
    this.#fileToken = read;
    this.#reread = false;
    return { token: read, fresh: true };
  }

  async #send(method: string, path: string, token: string | null, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    try {
      return await fetch(`${this.#endpoint.apiUrl}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      const timedOut = error instanceof DOMException && error.name === 'TimeoutError';
      throw timedOut
        ? new HttpFailure('timeout', null, `${method} ${path}: no answer within ${this.#timeoutMs} ms`)
        : new HttpFailure('connection', null, `${method} ${path}: cannot reach the app`);
    }
  }
}
