import { describeUrl, fetchWithRetries, HttpFailure, type RetryTuning } from '../../core/http/retry.js';

/** Failure classes of OpenMetadata calls; none carries the token or a response body. */
export type OpenMetadataErrorCode = 'auth_failed' | 'upstream_failed' | 'timeout';

export class OpenMetadataError extends Error {
  constructor(
    readonly code: OpenMetadataErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'OpenMetadataError';
  }
}

/** 30 s per request (07 §6); production retries 429 and 5xx, the catalog's request path does not. */
export const DEFAULT_TUNING: RetryTuning = {
  requestTimeoutMs: 30_000,
  retries: 3,
  retryDelayMs: 1000,
  maxRetryAfterMs: 30_000,
};

/** A bound on paging, so a server that keeps answering with cursors cannot loop a run forever. */
const MAX_PAGES = 1000;
const PAGE_SIZE = 100;
/** Elasticsearch's default `max_result_window`: `from + size` beyond it is refused. */
const MAX_SEARCH_RESULTS = 10_000;
/** A table with thousands of columns is a few MiB; more is not a catalog answer. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;

/** An entity as OpenMetadata sends it: untrusted JSON, read field by field by its users. */
export type OmEntity = Record<string, unknown>;

const isEntity = (value: unknown): value is OmEntity =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * A read-only client of the OpenMetadata REST API (07 §6). Requests go only to the configured
 * URL, with the token as a bearer header; FQNs are percent-encoded as one path segment, so dots,
 * spaces, quotes, `/`, `?` and `#` in them never change the path. Payload URLs (`href`) are never
 * followed. TLS verification is Node's default and is never turned off.
 */
export class OpenMetadataClient {
  readonly #base: URL;
  readonly #token: string;
  readonly #tuning: RetryTuning;

  constructor(url: string, token: string, tuning: Partial<RetryTuning> = {}) {
    if (token === '') throw new OpenMetadataError('auth_failed', 'no OpenMetadata token is configured');
    this.#base = new URL(url.endsWith('/') ? url : `${url}/`);
    this.#token = token;
    this.#tuning = { ...DEFAULT_TUNING, ...tuning };
  }

  /** `GET /api/v1/tables/name/{fqn}` with columns, owners, tags and extension; null when unknown. */
  async table(fqn: string): Promise<OmEntity | null> {
    try {
      return await this.#json(
        `api/v1/tables/name/${encodeURIComponent(fqn)}?fields=columns,owners,tags,extension`,
      );
    } catch (error) {
      if (error instanceof HttpFailure && error.status === 404) return null;
      throw this.#mapped(error);
    }
  }

  /** Every metric: `GET /api/v1/metrics` page by page, following `paging.after` to the end. */
  async metrics(): Promise<OmEntity[]> {
    const items: OmEntity[] = [];
    const seen = new Set<string>();
    let after: string | null = null;
    for (let page = 0; page < MAX_PAGES; page++) {
      const cursor = after === null ? '' : `&after=${encodeURIComponent(after)}`;
      const body = await this.#call(`api/v1/metrics?limit=${PAGE_SIZE}&fields=tags,owners${cursor}`);
      if (!Array.isArray(body.data))
        throw new OpenMetadataError('upstream_failed', 'metrics answer has no data list');
      items.push(...body.data.filter(isEntity));
      const next = isEntity(body.paging) ? body.paging.after : undefined;
      if (typeof next !== 'string' || next === '') return items;
      if (seen.has(next)) throw new OpenMetadataError('upstream_failed', 'metrics paging repeats a cursor');
      seen.add(next);
      after = next;
    }
    throw new OpenMetadataError('upstream_failed', `metrics paging did not end within ${MAX_PAGES} pages`);
  }

  /**
   * The metrics of one data product, from the metric search index (`q=*`, paged by `from` and
   * `size`); a hit belongs to the product when one of its `dataProducts` has that name or FQN.
   */
  async searchMetrics(dataProduct: string): Promise<OmEntity[]> {
    const items: OmEntity[] = [];
    for (let from = 0; from < MAX_SEARCH_RESULTS; ) {
      const size = Math.min(PAGE_SIZE, MAX_SEARCH_RESULTS - from);
      const body = await this.#call(
        `api/v1/search/query?q=*&index=metric_search_index&from=${from}&size=${size}`,
      );
      const hits = isEntity(body.hits) ? body.hits : null;
      if (!hits || !Array.isArray(hits.hits))
        throw new OpenMetadataError('upstream_failed', 'search answer has no hits list');
      const sources = hits.hits.map((hit) => (isEntity(hit) ? hit._source : null)).filter(isEntity);
      items.push(...sources.filter((metric) => inDataProduct(metric, dataProduct)));
      from += hits.hits.length;
      const total = isEntity(hits.total) ? hits.total.value : hits.total;
      if (hits.hits.length === 0 || (typeof total === 'number' && from >= total)) return items;
    }
    return items;
  }

  async #call(path: string): Promise<OmEntity> {
    try {
      return await this.#json(path);
    } catch (error) {
      throw this.#mapped(error);
    }
  }

  async #json(path: string): Promise<OmEntity> {
    const url = new URL(path, this.#base).href;
    const response = await fetchWithRetries(
      url,
      { method: 'GET', headers: { accept: 'application/json', authorization: `Bearer ${this.#token}` } },
      this.#tuning,
    );
    const body = await readLimitedJson(response, describeUrl(url));
    if (!isEntity(body))
      throw new OpenMetadataError('upstream_failed', `${describeUrl(url)}: answer is not an object`);
    return body;
  }

  #mapped(error: unknown): unknown {
    if (!(error instanceof HttpFailure)) return error;
    if (error.kind === 'timeout') return new OpenMetadataError('timeout', error.message);
    if (error.status === 401 || error.status === 403)
      return new OpenMetadataError('auth_failed', `OpenMetadata refused the token (HTTP ${error.status})`);
    return new OpenMetadataError('upstream_failed', error.message);
  }
}

/** Whether a metric document lists the data product by name or fully qualified name. */
export function inDataProduct(metric: OmEntity, dataProduct: string): boolean {
  const products = Array.isArray(metric.dataProducts) ? metric.dataProducts : [];
  return products.some(
    (p) => isEntity(p) && (p.fullyQualifiedName === dataProduct || p.name === dataProduct),
  );
}

/** Reads a JSON body up to {@link MAX_BODY_BYTES}; a cut, oversized or non-JSON body is an upstream failure. */
async function readLimitedJson(response: Response, what: string): Promise<unknown> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) {
    await response.body?.cancel();
    throw new OpenMetadataError('upstream_failed', `${what}: answer is too large`);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body?.getReader();
  try {
    for (;;) {
      const chunk = await reader?.read();
      if (!chunk || chunk.done) break;
      total += chunk.value.length;
      if (total > MAX_BODY_BYTES)
        throw new OpenMetadataError('upstream_failed', `${what}: answer is too large`);
      chunks.push(chunk.value);
    }
  } catch (error) {
    await reader?.cancel().catch(() => undefined);
    if (error instanceof OpenMetadataError) throw error;
    const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
    throw new OpenMetadataError(timedOut ? 'timeout' : 'upstream_failed', `${what}: the answer broke off`);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new OpenMetadataError('upstream_failed', `${what}: answer is not complete JSON`);
  }
}
