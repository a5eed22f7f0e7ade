import { join } from 'node:path';
import { expect } from 'vitest';
import { silentLogger } from '../../src/core/jobs/logger.js';
import { profileTables } from '../../src/core/jobs/profile-tables.js';
import { makeExtract } from './extracts.js';
import { createUser, type TestServer, type TestUser } from './server.js';

export interface Shop {
  admin: TestUser;
  analyst: TestUser;
}

/**
 * A small shop: `orders` (readable by the analyst, profiled), `customers` (discoverable but
 * locked), `secret_salaries` (not discoverable), published and profiled; `returns` is extracted
 * but not registered.
 */
export async function setupShop(server: TestServer): Promise<Shop> {
  const [admin, analyst] = await Promise.all([
    createUser(server.ctx, 'admin'),
    createUser(server.ctx, 'analyst'),
  ]);
  await makeExtract(join(server.dataDir, 'extracts'), 'shop', [
    {
      name: 'orders',
      select:
        "SELECT range AS order_id, range % 7 AS customer_id, (range * 13 % 97) * 1.5 AS amount, CASE WHEN range % 3 = 0 THEN 'open' ELSE 'closed' END AS status FROM range(200)",
    },
    { name: 'customers', select: "SELECT range AS customer_id, 'c' || range AS name FROM range(7)" },
    { name: 'secret_salaries', select: 'SELECT range AS employee_id, range * 1000 AS salary FROM range(5)' },
    { name: 'returns', select: 'SELECT range AS return_id, range % 50 AS order_id FROM range(12)' },
  ]);
  const { repos } = server.ctx;
  const register = (id: string, extra: Record<string, unknown> = {}) =>
    repos.registry.register({ id, name: id, source: 'shop', source_type: 'local', ...extra });
  await register('orders', { primary_key: 'order_id', bucket: 'sales', description: 'All orders' });
  await register('customers', { primary_key: 'customer_id', bucket: 'crm', description: 'Customer master' });
  await register('secret_salaries', { bucket: 'hr', is_discoverable: false });
  await repos.permissions.grantUser(analyst.id, { dataset: 'orders', access: 'read', granted_by: admin.id });
  await server.ctx.orchestrator.rebuild();
  const report = await profileTables(
    { repos, dataDir: server.dataDir, options: server.ctx.config.profiler, log: silentLogger },
    null,
    { force: true },
  );
  expect(report.failed).toEqual([]);
  return { admin, analyst };
}
