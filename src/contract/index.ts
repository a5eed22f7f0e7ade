/**
 * The wire contract: the JSON shapes the server sends and the `da` CLI or the browser client
 * reads, as one TypeBox schema each. The server validates, serialises and documents with the
 * schemas; the clients take the `Static` types. Imports nothing from the rest of `src/`, so every
 * side can depend on it.
 */
export * from './access.js';
export * from './alerts.js';
export * from './auth.js';
export * from './catalog.js';
export * from './common.js';
export * from './errors.js';
export * from './health.js';
export * from './jira.js';
export * from './jobs.js';
export * from './maintenance.js';
export * from './mcp.js';
export * from './memory.js';
export * from './memory-import.js';
export * from './notifications.js';
export * from './notifications-ws.js';
export * from './policies.js';
export * from './profile.js';
export * from './query.js';
export * from './registry.js';
export * from './scheduler.js';
export * from './scripts.js';
export * from './sync.js';
export * from './telegram.js';
export * from './users.js';
