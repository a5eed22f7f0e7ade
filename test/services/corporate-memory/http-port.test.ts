import { afterEach, describe, expect, it } from 'vitest';
import { httpCollectorPort } from '../../../src/operator/commands/corporate-memory.js';
import { ServiceClient } from '../../../src/operator/service-client.js';
import { CollectorAccountError } from '../../../src/services/corporate-memory/port.js';
import { FakeHttpServer, sendJson } from '../../fakes/http.js';

/**
 * The collector's HTTP client side of `GET /api/memory` (03 §13): a fake of the route in its
 * documented shape, so paging and the query the collector sends are pinned down here.
 */
let fake: FakeHttpServer;
const queries: URLSearchParams[] = [];

afterEach(async () => {
  queries.length = 0;
  await fake?.close();
});

const items = Array.from({ length: 450 }, (_, i) => ({
  id: `id-${i}`,
  title: `Title ${i}`,
  category: 'workflow',
  content: i === 0 ? null : `Content ${i}`,
}));

describe('httpCollectorPort', () => {
  it('pages through GET /api/memory for the most recent approved and pending items, up to the limit', async () => {
    fake = await FakeHttpServer.start((request, res) => {
      const { query } = request;
      queries.push(query);
      const page = Number(query.get('page'));
      const perPage = Number(query.get('per_page'));
      const slice = items.slice((page - 1) * perPage, page * perPage);
      sendJson(res, 200, { items: slice, total: items.length, count: items.length, page, per_page: perPage });
    });
    const port = httpCollectorPort(new ServiceClient({ apiUrl: fake.url, token: 'agnes_pat_x' }));

    const catalog = await port.catalog(300);

    expect(catalog).toHaveLength(300);
    expect(catalog[0]).toEqual({ id: 'id-0', title: 'Title 0', category: 'workflow', content: '' });
    expect(queries.map((q) => q.get('page'))).toEqual(['1', '2']);
    expect(queries[0]?.get('status')).toBe('approved,pending');
    expect(queries[0]?.get('sort')).toBe('updated_at');
    expect(queries[0]?.get('order')).toBe('desc');
  });

  it('turns a refused token into an account error', async () => {
    fake = await FakeHttpServer.start((_, res) => sendJson(res, 401, { detail: 'no', code: 'unauthorized' }));
    const port = httpCollectorPort(new ServiceClient({ apiUrl: fake.url, token: 'agnes_pat_x' }));
    await expect(port.account()).rejects.toBeInstanceOf(CollectorAccountError);
  });
});
