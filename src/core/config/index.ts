export { ConfigError, type LoadedConfig, type LoadOptions, loadConfig } from './load.js';
export type { InstanceConfig } from './schema.js';
export { type JwtSecrets, resolveJwtSecrets } from './secrets.js';
