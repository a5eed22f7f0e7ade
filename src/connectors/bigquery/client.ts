import { fetchWithRetries, type RetryTuning } from '../../core/http/retry.js';
import type { TokenSource } from './auth.js';
import { BigQueryError, fromHttpFailure, readJson } from './errors.js';

export const DEFAULT_TUNING: RetryTuning = {
  requestTimeoutMs: 60_000,
  retries: 3,
  retryDelayMs: 1000,
  maxRetryAfterMs: 60_000,
};

/** A bound on paging, so a server that keeps answering with tokens cannot loop a run forever. */
const MAX_PAGES = 1000;

export interface BigQueryField {
  name: string;
  type: string;
  mode?: string;
  fields?: BigQueryField[];
}

/** A table as `GET …/datasets/{d}/tables/{t}` describes it; int64 values arrive as strings. */
export interface BigQueryTable {
  tableReference?: { projectId?: string; datasetId?: string; tableId?: string };
  type?: string;
  description?: string;
  schema?: { fields?: BigQueryField[] };
  numRows?: string | number;
  numBytes?: string | number;
  lastModifiedTime?: string | number;
  tableConstraints?: { primaryKey?: { columns?: string[] } };
}

/**
 * A typed client of the BigQuery REST API v2 (07 §4 BigQuery), read-only. The access token goes
 * only to the configured endpoint, as a bearer header; it is never part of a message.
 */
export class BigQueryClient {
  readonly #base: string;
  readonly #tokens: TokenSource;
  readonly #tuning: RetryTuning;

  constructor(endpoint: string, project: string, tokens: TokenSource, tuning: RetryTuning) {
    this.#base = `${endpoint.replace(/\/$/, '')}/bigquery/v2/projects/${encodeURIComponent(project)}`;
    this.#tokens = tokens;
    this.#tuning = tuning;
  }

  async listDatasets(): Promise<string[]> {
    const items = await this.#paged<{ datasetReference?: { datasetId?: string } }>('/datasets', 'datasets');
    return items.flatMap((d) => d.datasetReference?.datasetId ?? []);
  }

  async listTables(dataset: string): Promise<{ tableId: string; type: string }[]> {
    const items = await this.#paged<{ tableReference?: { tableId?: string }; type?: string }>(
      `/datasets/${encodeURIComponent(dataset)}/tables`,
      'tables',
    );
    return items.flatMap((t) =>
      t.tableReference?.tableId ? [{ tableId: t.tableReference.tableId, type: t.type ?? 'TABLE' }] : [],
    );
  }

  getTable(dataset: string, table: string): Promise<BigQueryTable> {
    return this.#json<BigQueryTable>(
      `/datasets/${encodeURIComponent(dataset)}/tables/${encodeURIComponent(table)}`,
    );
  }

  async #paged<T>(path: string, key: string): Promise<T[]> {
    const items: T[] = [];
    let pageToken: string | null = null;
    for (let page = 0; page < MAX_PAGES; page++) {
      const query: string = pageToken ? `?pageToken=${encodeURIComponent(pageToken)}` : '';
      const body = await this.#json<Record<string, unknown>>(`${path}${query}`);
      const list = body[key];
      if (list !== undefined && !Array.isArray(list))
        throw new BigQueryError('upstream_failed', `${key} of ${path} is not a list`);
      items.push(...((list as T[] | undefined) ?? []));
      const next = body.nextPageToken;
      if (typeof next !== 'string' || !next) return items;
      pageToken = next;
    }
    throw new BigQueryError('upstream_failed', `${path} has more than ${MAX_PAGES} pages`);
  }

  async #json<T>(path: string): Promise<T> {
    const token = await this.#tokens.token();
    let response: Response;
    try {
      response = await fetchWithRetries(
        `${this.#base}${path}`,
        { method: 'GET', headers: { accept: 'application/json', authorization: `Bearer ${token}` } },
        this.#tuning,
      );
    } catch (error) {
      throw fromHttpFailure(error, 'BigQuery');
    }
    return (await readJson(response, `GET ${path.replace(/\?.*$/, '')}`)) as T;
  }
}
