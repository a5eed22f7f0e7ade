import { expect } from 'vitest';
import { call, type TestServer, type TestUser } from './server.js';

/**
 * What a server on a restored backup of the shop fixture answers as the original did: the reader's
 * identity and grants (orders yes, salaries no), the admin's password login, the reader's memory
 * item ('Fiscal year').
 */
export async function expectServesTheSnapshot(
  restored: TestServer,
  { admin, reader }: { admin: TestUser; reader: TestUser },
): Promise<void> {
  const me = await call(restored, 'GET', '/auth/me', { auth: reader.auth });
  expect(me.status).toBe(200);
  expect(me.body).toMatchObject({ email: reader.email, role: 'analyst' });
  const login = await call(restored, 'POST', '/auth/token', {
    body: { email: admin.email, password: admin.password },
  });
  expect(login.status).toBe(200);
  const rows = await call(restored, 'POST', '/api/query', {
    auth: reader.auth,
    body: { sql: 'SELECT count(*) AS n FROM orders' },
  });
  expect(rows.status, rows.text).toBe(200);
  expect(rows.body.rows).toEqual([[50]]);
  const refused = await call(restored, 'POST', '/api/query', {
    auth: reader.auth,
    body: { sql: 'SELECT count(*) FROM salaries' },
  });
  expect(refused.status).toBe(403);
  const memory = await call(restored, 'GET', '/api/memory', { auth: reader.auth });
  expect(JSON.stringify(memory.body)).toContain('Fiscal year');
}
