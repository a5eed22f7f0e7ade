import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FILE_MODE } from '../../core/fs/atomic.js';
import { fetchWithRetries, HttpFailure, type RetryTuning, retryAfterMs } from '../../core/http/retry.js';
import { isAttachmentId, isIssueId, isIssueKey } from './names.js';

/** Failure classes of the Jira REST API; each becomes an event's or a job's error code. */
export type JiraErrorCode =
  | 'auth_failed'
  | 'not_found'
  | 'rate_limited'
  | 'upstream_failed'
  | 'timeout'
  | 'invalid_response';

export class JiraError extends Error {
  constructor(
    readonly code: JiraErrorCode,
    message: string,
    /** For `rate_limited`: how long Jira asked to wait, in milliseconds. */
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
    this.name = 'JiraError';
  }
}

export type JsonObject = Record<string, unknown>;

/** An issue as `GET /rest/api/3/issue/{key}` answers (fields are tenant-specific, so kept loose). */
export interface JiraIssue extends JsonObject {
  id: string;
  key: string;
  fields: JsonObject;
}

export interface SearchHit {
  key: string;
  /** ISO 8601 UTC, or null when Jira sent none. */
  updated: string | null;
}

/** The account a client speaks as: Basic auth with an e-mail and an API token, on one base URL. */
export interface JiraCredentials {
  baseUrl: string;
  email: string;
  apiToken: string;
}

export const DEFAULT_TUNING: RetryTuning = {
  requestTimeoutMs: 30_000,
  retries: 3,
  retryDelayMs: 1000,
  maxRetryAfterMs: 60_000,
};

const PAGE = 100;
/** A bound on paging loops, so a server that never says `isLast` cannot keep a worker busy forever. */
const MAX_PAGES = 1000;

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** `host:port` of a URL with the scheme's default port made explicit, so `https://a` equals `https://a:443`. */
function hostAndPort(url: URL): string {
  const port = url.port || (url.protocol === 'https:' ? '443' : url.protocol === 'http:' ? '80' : '');
  return `${url.protocol}//${url.hostname.toLowerCase()}:${port}`;
}

/** Whether a payload-provided URL points at the configured Jira (07 §0 SSRF guard). */
export function isOnHost(url: unknown, baseUrl: string): boolean {
  if (typeof url !== 'string') return false;
  try {
    const parsed = new URL(url);
    return !parsed.username && !parsed.password && hostAndPort(parsed) === hostAndPort(new URL(baseUrl));
  } catch {
    return false;
  }
}

/**
 * A typed client of the Jira Cloud REST API v3 (07 §5.2). Credentials go only to the configured
 * base URL, as Basic auth; redirects are refused, so they never follow a `Location`. Keys and ids
 * are validated before they become a path segment.
 */
export class JiraClient {
  readonly #base: URL;
  readonly #authorization: string;
  readonly #tuning: RetryTuning;

  constructor(credentials: JiraCredentials, tuning: Partial<RetryTuning> = {}) {
    this.#base = new URL(credentials.baseUrl.endsWith('/') ? credentials.baseUrl : `${credentials.baseUrl}/`);
    this.#authorization = `Basic ${Buffer.from(`${credentials.email}:${credentials.apiToken}`).toString('base64')}`;
    this.#tuning = { ...DEFAULT_TUNING, ...tuning };
  }

  get baseUrl(): string {
    return this.#base.href.replace(/\/$/, '');
  }

  /** The full issue: every field, rendered fields and field names. */
  async issue(keyOrId: string): Promise<JiraIssue> {
    const body = await this.#json('GET', `${issuePath(keyOrId)}?expand=renderedFields,names&fields=*all`);
    if (!isObject(body) || typeof body.key !== 'string' || !isIssueKey(body.key) || !isObject(body.fields))
      throw new JiraError('invalid_response', 'issue response has no valid key or fields');
    return { ...body, id: String(body.id ?? ''), key: body.key, fields: body.fields };
  }

  /** Only the named fields of an issue (the SLA overlay). */
  async fields(key: string, fieldIds: readonly string[]): Promise<JsonObject> {
    const body = await this.#json(
      'GET',
      `${issuePath(key)}?fields=${fieldIds.map(encodeURIComponent).join(',')}`,
    );
    if (!isObject(body) || !isObject(body.fields))
      throw new JiraError('invalid_response', 'issue has no fields');
    return body.fields;
  }

  /** The whole change history, page by page until `isLast` (07 §5.2: full history). */
  async changelog(key: string): Promise<JsonObject[]> {
    const out: JsonObject[] = [];
    for (let page = 0; page < MAX_PAGES; page++) {
      const body = await this.#json(
        'GET',
        `${issuePath(key)}/changelog?startAt=${out.length}&maxResults=${PAGE}`,
      );
      const values = isObject(body) && Array.isArray(body.values) ? body.values.filter(isObject) : null;
      if (!values) throw new JiraError('invalid_response', 'changelog page has no values');
      out.push(...values);
      const total = isObject(body) && typeof body.total === 'number' ? body.total : null;
      const last = isObject(body) && body.isLast === true;
      if (last || values.length === 0 || (total !== null && out.length >= total)) return out;
    }
    throw new JiraError('invalid_response', 'changelog did not end');
  }

  /** Every comment, oldest first. */
  async comments(key: string): Promise<JsonObject[]> {
    const out: JsonObject[] = [];
    for (let page = 0; page < MAX_PAGES; page++) {
      const body = await this.#json(
        'GET',
        `${issuePath(key)}/comment?startAt=${out.length}&maxResults=${PAGE}&orderBy=created`,
      );
      const comments = isObject(body) && Array.isArray(body.comments) ? body.comments.filter(isObject) : null;
      if (!comments) throw new JiraError('invalid_response', 'comment page has no comments');
      out.push(...comments);
      const total = isObject(body) && typeof body.total === 'number' ? body.total : out.length;
      if (comments.length === 0 || out.length >= total) return out;
    }
    throw new JiraError('invalid_response', 'comments did not end');
  }

  async remoteLinks(key: string): Promise<JsonObject[]> {
    const body = await this.#json('GET', `${issuePath(key)}/remotelink`);
    if (!Array.isArray(body)) throw new JiraError('invalid_response', 'remote links are not a list');
    return body.filter(isObject);
  }

  /** Keys and update times of every issue a JQL query finds (`POST /rest/api/3/search/jql`, `nextPageToken`). */
  async search(jql: string): Promise<SearchHit[]> {
    const out: SearchHit[] = [];
    let nextPageToken: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const body = await this.#json(
        'POST',
        'rest/api/3/search/jql',
        JSON.stringify({ jql, fields: ['key', 'updated'], maxResults: PAGE, nextPageToken }),
      );
      const issues = isObject(body) && Array.isArray(body.issues) ? body.issues.filter(isObject) : null;
      if (!issues) throw new JiraError('invalid_response', 'search page has no issues');
      for (const issue of issues) {
        if (typeof issue.key !== 'string' || !isIssueKey(issue.key)) continue;
        const updated = isObject(issue.fields) ? utcOrNull(issue.fields.updated) : null;
        out.push({ key: issue.key, updated });
      }
      const token = isObject(body) && typeof body.nextPageToken === 'string' ? body.nextPageToken : undefined;
      if (!token || (isObject(body) && body.isLast === true)) return out;
      nextPageToken = token;
    }
    throw new JiraError('invalid_response', 'search did not end');
  }

  /**
   * Streams an attachment's content to `path`, at most `maxBytes`. The payload's content URL only
   * has to be on the configured host; the request itself is built from the base URL and the
   * validated id, with `redirect=false` so Jira answers with the bytes instead of a redirect.
   */
  async downloadAttachment(id: string, contentUrl: unknown, path: string, maxBytes: number): Promise<number> {
    if (!isAttachmentId(id)) throw new JiraError('invalid_response', 'attachment id is not numeric');
    if (!isOnHost(contentUrl, this.baseUrl))
      throw new JiraError('invalid_response', 'attachment URL is not on the configured Jira host');
    const url = new URL(`rest/api/3/attachment/content/${id}?redirect=false`, this.#base).href;
    const response = await this.#fetch('GET', url);
    if (!response.body) throw new JiraError('invalid_response', 'attachment has no content');
    let bytes = 0;
    const cap = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        bytes += chunk.length;
        if (bytes > maxBytes) done(new JiraError('invalid_response', 'attachment is larger than allowed'));
        else done(null, chunk);
      },
    });
    try {
      await pipeline(
        Readable.fromWeb(response.body as never),
        cap,
        createWriteStream(path, { mode: FILE_MODE }),
      );
    } catch (error) {
      await rm(path, { force: true });
      throw error instanceof JiraError
        ? error
        : new JiraError('upstream_failed', 'attachment download broke off');
    }
    return bytes;
  }

  async #json(method: string, path: string, body?: string): Promise<unknown> {
    const response = await this.#fetch(method, new URL(path, this.#base).href, body);
    try {
      return await response.json();
    } catch {
      throw new JiraError('invalid_response', 'response is not JSON');
    }
  }

  async #fetch(method: string, url: string, body?: string): Promise<Response> {
    const headers: Record<string, string> = {
      accept: 'application/json',
      authorization: this.#authorization,
    };
    if (body !== undefined) headers['content-type'] = 'application/json';
    try {
      return await fetchWithRetries(url, { method, headers, body }, this.#tuning);
    } catch (error) {
      if (!(error instanceof HttpFailure)) throw error;
      if (error.kind === 'timeout') throw new JiraError('timeout', error.message);
      if (error.status === 401 || error.status === 403)
        throw new JiraError('auth_failed', `Jira refused the account (HTTP ${error.status})`);
      if (error.status === 404) throw new JiraError('not_found', 'not found');
      if (error.status === 429)
        throw new JiraError(
          'rate_limited',
          'Jira is rate limiting',
          error.retryAfter === null ? null : retryAfterMs(error.retryAfter, 0, this.#tuning),
        );
      throw new JiraError('upstream_failed', error.message);
    }
  }
}

function issuePath(keyOrId: string): string {
  if (!isIssueKey(keyOrId) && !isIssueId(keyOrId)) throw new JiraError('not_found', 'not an issue key or id');
  return `rest/api/3/issue/${encodeURIComponent(keyOrId)}`;
}

/** Jira's `2024-03-31T23:30:00.000-0200` → ISO 8601 UTC; null for anything that is not a time. */
export function utcOrNull(value: unknown): string | null {
  if (typeof value !== 'string' || value === '') return null;
  const normalised = value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
  const time = Date.parse(normalised);
  return Number.isNaN(time) ? null : new Date(time).toISOString();
}
