import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type TestServer, withServer } from '../support/server.js';

/**
 * 03 §0.5 (2): the OpenAPI document is committed; any change to it shows up in review as a diff
 * of `__snapshots__/openapi.json`. Update deliberately with `npx vitest run test/server/openapi -u`.
 */
describe('OpenAPI document', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await withServer();
  });
  afterAll(async () => server.close());

  it('matches the committed snapshot', async () => {
    const doc = (await call(server, 'GET', '/openapi.json')).body as { info: { version: string } };
    doc.info.version = '<version>';
    await expect(`${JSON.stringify(doc, null, 2)}\n`).toMatchFileSnapshot('__snapshots__/openapi.json');
  });

  it('is served as /openapi.json and Swagger UI at /docs', async () => {
    expect((await call(server, 'GET', '/docs')).status).toBe(200);
    const doc = (await call(server, 'GET', '/openapi.json')).body as {
      openapi: string;
      paths: Record<string, unknown>;
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).length).toBeGreaterThan(20);
  });

  it('can be turned off with server.docs: false', async () => {
    const off = await withServer({ config: { server: { docs: false } } });
    try {
      expect((await call(off, 'GET', '/openapi.json')).status).toBe(404);
      expect((await call(off, 'GET', '/docs')).status).toBe(404);
    } finally {
      await off.close();
    }
  });
});
