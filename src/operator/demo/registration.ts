import type { Repositories } from '../../core/state/repositories/index.js';

/** How `agnes demo` registers the sample tables (07 §2.4): buckets, keys, visibility, grants. */

interface DemoTable {
  id: string;
  bucket: 'sales' | 'marketing' | 'support';
  primaryKey: string;
  description: string;
  isPublic?: boolean;
}

export const DEMO_SOURCE = 'sample';
export const DEMO_GROUP = 'Analysts';

export const DEMO_TABLES: readonly DemoTable[] = [
  {
    id: 'customers',
    bucket: 'sales',
    primaryKey: 'customer_id',
    description: 'Customers of the shop, B2C and B2B, with country and segment',
  },
  {
    id: 'orders',
    bucket: 'sales',
    primaryKey: 'order_id',
    description: 'Orders with status, channel and money totals',
  },
  {
    id: 'order_items',
    bucket: 'sales',
    primaryKey: 'order_item_id',
    description: 'Order lines: product, quantity, price and discount',
  },
  {
    id: 'products',
    bucket: 'sales',
    primaryKey: 'product_id',
    description: 'Product catalogue with category, price and cost',
    isPublic: true,
  },
  {
    id: 'payments',
    bucket: 'sales',
    primaryKey: 'payment_id',
    description: 'Payment attempts per order, including failed ones',
  },
  {
    id: 'campaigns',
    bucket: 'marketing',
    primaryKey: 'campaign_id',
    description: 'Marketing campaigns with channel, budget and spend',
  },
  {
    id: 'web_sessions',
    bucket: 'marketing',
    primaryKey: 'session_id',
    description: 'Website sessions with device, landing page and campaign',
  },
  {
    id: 'web_leads',
    bucket: 'marketing',
    primaryKey: 'lead_id',
    description: 'Leads captured on the website and their conversion',
  },
  {
    id: 'support_tickets',
    bucket: 'support',
    primaryKey: 'ticket_id',
    description: 'Support tickets with priority, timings and satisfaction',
  },
];

/** Grants of the demo group: marketing as a bucket wildcard plus three sales tables. */
export const DEMO_GROUP_GRANTS = ['marketing.*', 'customers', 'orders', 'order_items'] as const;

/** Idempotent: registers what is missing and leaves what an admin changed since alone. */
export async function registerDemo(repos: Repositories, adminId: string, analystId: string): Promise<void> {
  for (const table of DEMO_TABLES) {
    if (await repos.registry.get(table.id)) continue;
    await repos.registry.register({
      id: table.id,
      name: table.id,
      source: DEMO_SOURCE,
      source_type: 'local',
      bucket: table.bucket,
      source_table: table.id,
      primary_key: table.primaryKey,
      description: table.description,
      is_public: table.isPublic ?? false,
      registered_by: adminId,
    });
  }
  const group =
    (await repos.groups.getByName(DEMO_GROUP)) ??
    (await repos.groups.create({ name: DEMO_GROUP, description: 'Demo analysts', created_by: adminId }));
  await repos.groups.addMember(group.id, analystId, adminId);
  for (const dataset of DEMO_GROUP_GRANTS) {
    await repos.permissions.grantGroup(group.id, { dataset, access: 'read', granted_by: adminId });
  }
}
