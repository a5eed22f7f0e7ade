import { readFile } from 'node:fs/promises';
import type { MemoryCreated, MemoryItem, MemoryList, MemoryVoteResult } from '../../contract/index.js';
import type { ApiClient } from '../client.js';
import { type CliContext, connect } from '../context.js';
import { CliError, EXIT } from '../errors.js';
import { toTable } from '../format.js';

/** `da memory list|search|show|propose|vote`: the corporate memory through `/api/memory` (03 §13). */

const enc = encodeURIComponent;

async function memoryClient(ctx: CliContext): Promise<ApiClient> {
  return (await connect(ctx, { requireAuth: true })).client;
}

function score(n: number): string {
  return n > 0 ? `+${n}` : String(n);
}

function itemTable(body: MemoryList, empty: string): string {
  if (body.items.length === 0) return empty;
  const table = toTable({
    columns: ['id', 'status', 'score', 'category', 'title'],
    rows: body.items.map((item) => [item.id, item.status, score(item.score), item.category, item.title]),
  });
  const shown = body.items.length < body.total ? `\n(${body.items.length} of ${body.total}; use --page)` : '';
  return `${table}${shown}`;
}

export interface MemoryListOptions {
  status?: string;
  category?: string;
  mine?: boolean;
  sort?: string;
  page?: number;
  perPage?: number;
}

export async function list(ctx: CliContext, options: MemoryListOptions): Promise<void> {
  const client = await memoryClient(ctx);
  const body = await client.json<MemoryList>('GET', '/api/memory', {
    query: {
      status: options.status,
      category: options.category,
      mine: options.mine ? true : undefined,
      sort: options.sort,
      page: options.page,
      per_page: options.perPage,
    },
  });
  ctx.out.result(body, () => itemTable(body, 'No items.'));
}

export async function search(ctx: CliContext, options: { limit?: number }, text: string): Promise<void> {
  const client = await memoryClient(ctx);
  const body = await client.json<MemoryList>('GET', '/api/memory', {
    query: { search: text, sort: 'score', per_page: options.limit ?? 20 },
  });
  ctx.out.result(body, () => itemTable(body, `Nothing found for "${text}".`));
}

function itemText(item: MemoryItem): string {
  const people = [
    item.source_user ? `by ${item.source_user.name}` : 'from the collector',
    ...(item.contributors.length > 0
      ? [`contributors: ${item.contributors.map((c) => c.name).join(', ')}`]
      : []),
  ];
  return [
    item.title,
    `${item.status} · ${item.category ?? 'no category'} · score ${score(item.score)} (${item.upvotes} up, ${item.downvotes} down)${item.my_vote ? ` · your vote ${score(item.my_vote)}` : ''}`,
    `${people.join(' · ')} · audience ${item.audience} · updated ${item.updated_at}`,
    ...(item.tags.length > 0 ? [`tags: ${item.tags.join(', ')}`] : []),
    '',
    item.content,
  ].join('\n');
}

export async function show(ctx: CliContext, id: string): Promise<void> {
  const client = await memoryClient(ctx);
  const item = await client.json<MemoryItem>('GET', `/api/memory/${enc(id)}`);
  ctx.out.result(item, () => itemText(item));
}

export interface ProposeOptions {
  title: string;
  category: string;
  content?: string;
  file?: string;
  tags?: string;
  audience?: string;
}

export async function propose(ctx: CliContext, options: ProposeOptions): Promise<void> {
  if ((options.content === undefined) === (options.file === undefined)) {
    throw new CliError(EXIT.usage, 'give the content with exactly one of --content or --file', 'usage');
  }
  const content = options.file === undefined ? (options.content ?? '') : await readFile(options.file, 'utf8');
  const tags = options.tags
    ?.split(',')
    .map((tag) => tag.trim())
    .filter(Boolean);
  const client = await memoryClient(ctx);
  const created = await client.json<MemoryCreated>('POST', '/api/memory', {
    body: {
      title: options.title,
      content,
      category: options.category,
      ...(tags ? { tags } : {}),
      ...(options.audience ? { audience: options.audience } : {}),
    },
  });
  ctx.out.result(created, () =>
    created.status === 'pending'
      ? `Proposed ${created.id}; it is pending until a knowledge admin reviews it`
      : `Published ${created.id}`,
  );
}

const VOTES = { up: 1, down: -1, clear: 0 } as const;
export type VoteChoice = keyof typeof VOTES;
export const VOTE_CHOICES = Object.keys(VOTES) as VoteChoice[];

export async function vote(ctx: CliContext, id: string, choice: VoteChoice): Promise<void> {
  const client = await memoryClient(ctx);
  const tally = await client.json<MemoryVoteResult>('POST', `/api/memory/${enc(id)}/vote`, {
    body: { vote: VOTES[choice] },
  });
  ctx.out.result(tally, () => `Score ${score(tally.score)} (${tally.upvotes} up, ${tally.downvotes} down)`);
}
