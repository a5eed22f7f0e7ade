import type { SelectQueryBuilder } from 'kysely';
import { AgnesError } from '../../errors.js';

/** Paging as the API takes it (03-http-api.md §0.4): `page` from 1, `per_page` 1–200. */
export interface PageRequest {
  page: number;
  per_page: number;
}

export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  per_page: number;
}

export const MAX_PER_PAGE = 200;
const FIRST_PAGE: PageRequest = { page: 1, per_page: 50 };

function offsetOf({ page, per_page }: PageRequest): number {
  // The API validates too; this guard keeps a bad caller from producing a negative offset.
  if (
    !Number.isInteger(page) ||
    page < 1 ||
    !Number.isInteger(per_page) ||
    per_page < 1 ||
    per_page > MAX_PER_PAGE
  ) {
    throw new AgnesError('validation_failed', `page must be ≥ 1 and per_page 1–${MAX_PER_PAGE}`);
  }
  return (page - 1) * per_page;
}

/**
 * One page of `query` plus the total matching rows. `query` carries its filters, selection and a
 * stable order (primary sort plus a unique key); the count reuses the same filters.
 */
export async function paginate<DB, TB extends keyof DB, O>(
  query: SelectQueryBuilder<DB, TB, O>,
  request: PageRequest = FIRST_PAGE,
): Promise<Page<O>> {
  const offset = offsetOf(request);
  const [items, counted] = await Promise.all([
    query.limit(request.per_page).offset(offset).execute(),
    query
      .clearSelect()
      .clearOrderBy()
      .select((eb) => eb.fn.countAll().as('total'))
      // Kysely cannot resolve the selection over generic tables; Postgres returns bigint counts as text.
      .$castTo<{ total: number | string | bigint }>()
      .executeTakeFirstOrThrow(),
  ]);
  return { items, total: Number(counted.total), page: request.page, per_page: request.per_page };
}

/** `total`, `page` and `per_page` of a page, which the API sends next to the collection (03 §0.4 pagination). */
export function pageFields({ total, page, per_page }: Page<unknown>): Omit<Page<unknown>, 'items'> {
  return { total, page, per_page };
}
