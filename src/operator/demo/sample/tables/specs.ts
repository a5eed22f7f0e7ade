import type { TableSpec } from '../table-spec.js';
import { CAMPAIGNS } from './campaigns.js';
import { CUSTOMERS } from './customers.js';
import { ORDER_ITEMS } from './order-items.js';
import { ORDERS } from './orders.js';
import { PAYMENTS } from './payments.js';
import { PRODUCTS } from './products.js';
import { SUPPORT_TICKETS } from './support-tickets.js';
import { WEB_LEADS } from './web-leads.js';
import { WEB_SESSIONS } from './web-sessions.js';

/** Every table's columns and types, in manifest order. */
export const TABLE_SPECS: readonly TableSpec[] = [
  CUSTOMERS,
  PRODUCTS,
  CAMPAIGNS,
  WEB_SESSIONS,
  WEB_LEADS,
  ORDERS,
  ORDER_ITEMS,
  PAYMENTS,
  SUPPORT_TICKETS,
];
