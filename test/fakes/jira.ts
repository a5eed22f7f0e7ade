import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A fake Jira Cloud (07 §5.6) on 127.0.0.1: issues with full changelogs and comments (paged by
 * 100), remote links, `search/jql` with `nextPageToken`, an SLA base path (`/sla`) that only the
 * SLA account may read, attachment content on its own host, Basic-auth checks, injectable
 * 401/404/429/500/slow/truncated answers and a log of every request. `sendWebhook` posts events
 * signed with a real HMAC-SHA256, as Jira does (03 §20).
 */

type Json = Record<string, unknown>;

export interface FakeIssue {
  id: string;
  key: string;
  fields: Json;
  /** Change histories `{id, author, created, items}`, oldest first. */
  changelog: Json[];
  comments: Json[];
  remoteLinks: Json[];
  /** SLA field values served on the SLA path (and, without `jira.sla`, among the fields). */
  sla: Json;
}

export interface Fault {
  /** Matched against `METHOD /path?query`. */
  match: RegExp;
  status?: number;
  retryAfter?: string;
  /** Answer after this many milliseconds. */
  delayMs?: number;
  /** Send half the body, then drop the connection. */
  truncate?: boolean;
  /** How many requests it hits; Infinity for all. */
  times: number;
}

export interface LoggedRequest {
  method: string;
  path: string;
  /** The e-mail of the Basic credentials, or null without any. */
  account: string | null;
}

export interface Account {
  email: string;
  token: string;
}

const PROJECT = { id: '10000', key: 'SUP', name: 'Support' };

export function user(name: string, email: string | null = `${name.toLowerCase()}@example.com`): Json {
  return { accountId: `acc-${name}`, displayName: name, ...(email ? { emailAddress: email } : {}) };
}

/** A paragraph of Atlassian Document Format. */
export function adf(...paragraphs: string[]): Json {
  return {
    type: 'doc',
    version: 1,
    content: paragraphs.map((text) => ({ type: 'paragraph', content: [{ type: 'text', text }] })),
  };
}

export interface IssueSeed {
  key: string;
  id?: string;
  summary?: string;
  created?: string;
  updated?: string;
  status?: string;
  statusCategory?: string;
  fields?: Json;
  changes?: number;
  comments?: number;
  remoteLinks?: number;
  attachments?: Json[];
  issuelinks?: Json[];
  sla?: Json;
}

let nextId = 20000;

/** An issue with plausible fields, `changes` history entries and `comments`, as the fake serves it. */
export function fakeIssue(seed: IssueSeed): FakeIssue {
  const id = seed.id ?? String(nextId++);
  const created = seed.created ?? '2024-03-10T09:00:00.000+0000';
  const changelog = Array.from({ length: seed.changes ?? 1 }, (_, i) => ({
    id: `${id}${String(i).padStart(4, '0')}`,
    author: user('Alice'),
    created,
    items: [
      { field: 'status', fieldtype: 'jira', from: '1', fromString: 'Open', to: '3', toString: `Step ${i}` },
      ...(i === 0
        ? [{ field: 'labels', fieldtype: 'jira', from: null, fromString: '', toString: 'vip' }]
        : []),
    ],
  }));
  const comments = Array.from({ length: seed.comments ?? 1 }, (_, i) => ({
    id: `${id}${String(i).padStart(5, '0')}`,
    author: user('Bob'),
    updateAuthor: user('Bob'),
    body: adf(`Comment ${i} on ${seed.key}`),
    created,
    updated: created,
  }));
  const remoteLinks = Array.from({ length: seed.remoteLinks ?? 1 }, (_, i) => ({
    id: Number(`${id}${i}`),
    object: { url: `https://docs.example.com/${seed.key}/${i}`, title: `Doc ${i}` },
    application: { name: 'Confluence', type: 'com.atlassian.confluence' },
  }));
  const issue: FakeIssue = {
    id,
    key: seed.key,
    fields: {
      summary: seed.summary ?? `Summary of ${seed.key}`,
      description: adf(`Description of ${seed.key}`, 'Second line'),
      issuetype: { name: 'Task' },
      status: { name: seed.status ?? 'Open', statusCategory: { name: seed.statusCategory ?? 'To Do' } },
      priority: { name: 'High' },
      resolution: null,
      project: PROJECT,
      creator: user('Carol'),
      reporter: user('Carol'),
      assignee: user('Dave'),
      created,
      updated: seed.updated ?? created,
      resolutiondate: null,
      duedate: '2024-04-30',
      labels: ['vip'],
      attachment: seed.attachments ?? [],
      issuelinks: seed.issuelinks ?? [],
      comment: { total: seed.comments ?? 1 },
      customfield_10004: { value: 'S2' },
      customfield_10323: [{ value: 'Bug' }, { value: 'Urgent' }],
      customfield_10156: [user('Eve'), user('Hidden', null)],
      customfield_10157: { rating: 4 },
      customfield_10010: { requestType: { name: 'Get help' }, currentStatus: { status: 'Waiting' } },
      ...seed.fields,
    },
    changelog,
    comments,
    remoteLinks,
    sla: seed.sla ?? {},
  };
  return issue;
}

export class FakeJira {
  readonly account: Account;
  readonly slaAccount: Account;
  readonly issues = new Map<string, FakeIssue>();
  readonly attachments = new Map<string, Buffer>();
  readonly requests: LoggedRequest[] = [];
  readonly faults: Fault[] = [];
  url = '';
  #server: Server;

  private constructor(account: Account, slaAccount: Account) {
    this.account = account;
    this.slaAccount = slaAccount;
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500).end(String(error));
      });
    });
  }

  static async start(
    account: Account = { email: 'bot@example.com', token: 'jira-api-token-0123456789' },
    slaAccount: Account = { email: 'sla@example.com', token: 'jira-sla-token-0123456789' },
  ): Promise<FakeJira> {
    const fake = new FakeJira(account, slaAccount);
    await new Promise<void>((resolve) => fake.#server.listen(0, '127.0.0.1', resolve));
    fake.url = `http://127.0.0.1:${(fake.#server.address() as AddressInfo).port}`;
    return fake;
  }

  /** Where the SLA account reads SLA fields (`jira.sla.base_url`). */
  get slaBaseUrl(): string {
    return `${this.url}/sla`;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  /** Adds (or replaces) an issue with plausible fields, `changes` history entries and `comments`. */
  addIssue(seed: IssueSeed): FakeIssue {
    const issue = fakeIssue(seed);
    this.issues.set(seed.key, issue);
    return issue;
  }

  /** Changes an issue's fields and bumps `updated`. */
  updateIssue(key: string, fields: Json, updated = new Date().toISOString()): FakeIssue {
    const issue = this.issues.get(key);
    if (!issue) throw new Error(`no issue ${key}`);
    Object.assign(issue.fields, fields, { updated });
    return issue;
  }

  deleteIssue(key: string): void {
    this.issues.delete(key);
  }

  /** Requests to the REST API for one issue (any of its endpoints). */
  requestsFor(key: string): LoggedRequest[] {
    return this.requests.filter((r) => r.path.startsWith(`/rest/api/3/issue/${key}`));
  }

  #find(keyOrId: string): FakeIssue | undefined {
    return this.issues.get(keyOrId) ?? [...this.issues.values()].find((i) => i.id === keyOrId);
  }

  #accountOf(req: IncomingMessage): string | null {
    const header = req.headers.authorization ?? '';
    if (!header.startsWith('Basic ')) return null;
    const [email, ...rest] = Buffer.from(header.slice(6), 'base64').toString('utf8').split(':');
    const token = rest.join(':');
    for (const account of [this.account, this.slaAccount])
      if (account.email === email && account.token === token) return email;
    return `invalid:${email}`;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const account = this.#accountOf(req);
    this.requests.push({ method: req.method ?? 'GET', path: `${url.pathname}${url.search}`, account });
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');

    const line = `${req.method} ${url.pathname}${url.search}`;
    const fault = this.faults.find((f) => f.times > 0 && f.match.test(line));
    if (fault) {
      fault.times -= 1;
      if (fault.delayMs) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
      if (fault.status) {
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (fault.retryAfter) headers['retry-after'] = fault.retryAfter;
        res.writeHead(fault.status, headers).end(JSON.stringify({ errorMessages: ['injected'] }));
        return;
      }
    }
    const send = (status: number, payload: unknown) => {
      const text = JSON.stringify(payload);
      if (fault?.truncate) {
        res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(text.length) });
        res.write(text.slice(0, Math.floor(text.length / 2)));
        res.destroy();
        return;
      }
      res.writeHead(status, { 'content-type': 'application/json' }).end(text);
    };

    const sla = url.pathname.startsWith('/sla/');
    const path = sla ? url.pathname.slice(4) : url.pathname;
    const wanted = sla ? this.slaAccount.email : this.account.email;
    if (account !== wanted) {
      send(401, { errorMessages: ['You are not authenticated'] });
      return;
    }

    const content = /^\/rest\/api\/3\/attachment\/content\/([0-9]+)$/.exec(path);
    if (content && !sla) {
      const bytes = this.attachments.get(content[1] ?? '');
      if (!bytes) send(404, { errorMessages: ['no attachment'] });
      else if (url.searchParams.get('redirect') !== 'false')
        res.writeHead(303, { location: 'https://media.example.invalid/file' }).end();
      else res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(bytes);
      return;
    }

    if (path === '/rest/api/3/search/jql' && req.method === 'POST' && !sla) {
      send(200, this.#search(JSON.parse(body || '{}') as Json));
      return;
    }

    const match = /^\/rest\/api\/3\/issue\/([^/]+)(?:\/(changelog|comment|remotelink))?$/.exec(path);
    const issue = match ? this.#find(decodeURIComponent(match[1] ?? '')) : undefined;
    if (!match) {
      send(404, { errorMessages: ['no such endpoint'] });
      return;
    }
    if (!issue) {
      send(404, { errorMessages: ['Issue does not exist or you do not have permission to see it.'] });
      return;
    }
    const startAt = Number(url.searchParams.get('startAt') ?? 0);
    const maxResults = Math.min(Number(url.searchParams.get('maxResults') ?? 50), 100);
    switch (match[2]) {
      case 'changelog': {
        const values = issue.changelog.slice(startAt, startAt + maxResults);
        send(200, {
          startAt,
          maxResults,
          total: issue.changelog.length,
          isLast: startAt + values.length >= issue.changelog.length,
          values,
        });
        return;
      }
      case 'comment':
        send(200, {
          startAt,
          maxResults,
          total: issue.comments.length,
          comments: issue.comments.slice(startAt, startAt + maxResults),
        });
        return;
      case 'remotelink':
        send(200, issue.remoteLinks);
        return;
      default:
        send(200, this.#issueBody(issue, url.searchParams.get('fields'), sla));
    }
  }

  #issueBody(issue: FakeIssue, fields: string | null, sla: boolean): Json {
    const all = { ...issue.fields, ...(sla ? issue.sla : {}) };
    const selected =
      fields && fields !== '*all'
        ? Object.fromEntries(
            fields
              .split(',')
              .filter((f) => f in all)
              .map((f) => [f, all[f]]),
          )
        : all;
    return {
      id: issue.id,
      key: issue.key,
      self: `${this.url}/rest/api/3/issue/${issue.id}`,
      fields: selected,
      ...(fields === '*all' ? { renderedFields: {}, names: {} } : {}),
    };
  }

  /** `project = "P"`, `updated >= -Nd`, `updated <= -Nm`: the clauses the consistency check sends. */
  #search(request: Json): Json {
    const jql = String(request.jql ?? '');
    const project = /project\s*=\s*"([^"]+)"/.exec(jql)?.[1];
    const from = /updated\s*>=\s*-(\d+)([dm])/.exec(jql);
    const to = /updated\s*<=\s*-(\d+)([dm])/.exec(jql);
    const offset = (m: RegExpExecArray | null) =>
      m ? Date.now() - Number(m[1]) * (m[2] === 'd' ? 86_400_000 : 60_000) : null;
    const [low, high] = [offset(from), offset(to)];
    const hits = [...this.issues.values()]
      .filter((issue) => {
        const updated = Date.parse(String(issue.fields.updated).replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
        const inProject = !project || (issue.fields.project as Json).key === project;
        return inProject && (low === null || updated >= low) && (high === null || updated <= high);
      })
      .sort((a, b) => (a.key < b.key ? -1 : 1));
    const start = Number(request.nextPageToken ?? 0);
    const size = Math.min(Number(request.maxResults ?? 50), 100);
    const page = hits.slice(start, start + size);
    const more = start + size < hits.length;
    return {
      issues: page.map((i) => ({ id: i.id, key: i.key, fields: { updated: i.fields.updated } })),
      ...(more ? { nextPageToken: String(start + size) } : {}),
      isLast: !more,
    };
  }
}

// ---------------------------------------------------------------------------------------------
// The webhook sender

export function sign(secret: string, body: string | Buffer): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

export interface SendOptions {
  /** null: no signature header at all. */
  secret: string | null;
  header?: 'X-Hub-Signature-256' | 'X-Hub-Signature';
  /** `sha256=<hex>` (Jira's form) or the bare hex. */
  prefix?: string;
  /** Replaces the computed signature. */
  signature?: string;
  headers?: Record<string, string>;
}

/** Posts one webhook delivery: `payload` as JSON (or raw text/bytes as they are), signed over the exact bytes sent. */
export async function sendWebhook(
  url: string,
  payload: unknown,
  options: SendOptions,
): Promise<{ status: number; body: Json; text: string }> {
  const body =
    typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : Buffer.from(JSON.stringify(payload));
  const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers };
  if (options.secret !== null || options.signature !== undefined) {
    const signature = options.signature ?? sign(options.secret ?? '', body);
    headers[options.header ?? 'X-Hub-Signature-256'] = `${options.prefix ?? 'sha256='}${signature}`;
  }
  const response = await fetch(`${url}/webhooks/jira`, {
    method: 'POST',
    headers,
    body: new Uint8Array(Buffer.from(body)),
  });
  const text = await response.text();
  let parsed: Json = {};
  try {
    parsed = JSON.parse(text) as Json;
  } catch {
    parsed = {};
  }
  return { status: response.status, body: parsed, text };
}

/** A webhook body as Jira sends it for an issue event. */
export function issueEvent(event: string, issue: Pick<FakeIssue, 'id' | 'key'>, extra: Json = {}): Json {
  return {
    timestamp: Date.now(),
    webhookEvent: event,
    issue: { id: issue.id, key: issue.key, self: 'https://payload.example.invalid/issue', fields: {} },
    ...extra,
  };
}

/** A link event: only the numeric ids of both issues. */
export function linkEvent(
  event: 'issuelink_created' | 'issuelink_deleted',
  source: string,
  target: string,
): Json {
  return {
    timestamp: Date.now(),
    webhookEvent: event,
    issueLink: { id: 777, sourceIssueId: Number(source), destinationIssueId: Number(target) },
  };
}
