import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parseDocument } from 'yaml';
import type { Connector } from '../extract/connector.js';
import { registerConfigFormats } from './formats.js';
import { describeError, keyPath, suggest } from './messages.js';
import { type Env, type EnvProblem, resolveTree } from './resolve-env.js';
import { childSchema, configSchema, type InstanceConfig } from './schema.js';
import { checkSources } from './sources.js';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

export interface LoadOptions {
  env?: Env;
  cwd?: string;
  /** Overrides AGNES_CONFIG / CONFIG_DIR. */
  configPath?: string;
  /** Overrides DATA_DIR. */
  dataDir?: string;
  /** The data directory used when neither the option nor DATA_DIR is set. */
  defaultDataDir?: string;
  /** The connectors this process runs: each adds its `data_sources.<key>` section. */
  connectors?: readonly Connector[];
}

export interface LoadedConfig {
  config: InstanceConfig;
  /** The file read, or null when defaults apply. */
  configPath: string | null;
  dataDir: string;
  warnings: string[];
}

type Tree = Record<string, unknown>;

const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

function isObject(value: unknown): value is Tree {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function knownPaths(schema: TSchema, prefix = ''): string[] {
  const properties = (schema as { properties?: Record<string, TSchema> }).properties;
  if (!properties) return [];
  return Object.entries(properties).flatMap(([key, child]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    return [path, ...knownPaths(child, path)];
  });
}

/** Reports and removes keys the schema does not know, so validation reports each problem once. */
function removeUnknownKeys(
  schema: TSchema,
  value: unknown,
  path: string,
  problems: string[],
  all: string[],
): void {
  if (Array.isArray(value)) {
    value.forEach((item, index) => {
      const child = childSchema(schema, index);
      if (child) removeUnknownKeys(child, item, `${path}[${index}]`, problems, all);
    });
    return;
  }
  if (!isObject(value)) return;
  const s = schema as { properties?: Record<string, TSchema>; patternProperties?: Record<string, TSchema> };
  for (const key of Object.keys(value)) {
    const childPath = path ? `${path}.${key}` : key;
    if (s.properties) {
      if (!(key in s.properties)) {
        const hint = suggest(childPath, all);
        problems.push(`config: unknown key "${childPath}"${hint ? ` (did you mean "${hint}"?)` : ''}`);
        delete value[key];
        continue;
      }
      removeUnknownKeys(s.properties[key]!, value[key], childPath, problems, all);
    } else if (s.patternProperties) {
      const [pattern, child] = Object.entries(s.patternProperties)[0]!;
      if (!new RegExp(pattern).test(key)) {
        problems.push(`config: ${childPath}: key must be an identifier (letters, digits, underscore)`);
        delete value[key];
        continue;
      }
      removeUnknownKeys(child, value[key], childPath, problems, all);
    }
  }
}

function escapeReferences(value: unknown): unknown {
  // A replacer function: in a replacement string `$$` would mean a single `$`, undoing the escape.
  if (typeof value === 'string') return value.replaceAll('${', () => '$${');
  if (Array.isArray(value)) return value.map(escapeReferences);
  if (isObject(value))
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, escapeReferences(v)]));
  return value;
}

function expects(schema: TSchema, type: string): boolean {
  const s = schema as { type?: string; anyOf?: TSchema[] };
  if (s.type === type) return true;
  return Array.isArray(s.anyOf) && s.anyOf.some((variant) => expects(variant, type));
}

/** Environment values arrive as text: convert the ones the schema wants as numbers or booleans. */
function convertScalars(schema: TSchema, value: unknown): unknown {
  if (typeof value === 'string') {
    if ((expects(schema, 'integer') || expects(schema, 'number')) && /^-?[0-9]+(\.[0-9]+)?$/.test(value)) {
      return Number(value);
    }
    if (expects(schema, 'boolean') && (value === 'true' || value === 'false')) return value === 'true';
    return value;
  }
  if (Array.isArray(value)) {
    return value.map((item, index) => {
      const child = childSchema(schema, index);
      return child ? convertScalars(child, item) : item;
    });
  }
  if (isObject(value)) {
    for (const [key, child] of Object.entries(value)) {
      const childSchemaFor = childSchema(schema, key);
      if (childSchemaFor) value[key] = convertScalars(childSchemaFor, child);
    }
  }
  return value;
}

function readYaml(path: string, problems: string[]): Tree {
  const text = readFileSync(path, 'utf8');
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  for (const error of document.errors.slice(0, 1)) {
    const position = error.linePos?.[0];
    const where = position ? `line ${position.line}, column ${position.col}: ` : '';
    problems.push(
      `instance.yaml: ${where}${error.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '')}`,
    );
  }
  if (document.errors.length > 0) return {};
  const parsed = document.toJS() as unknown;
  if (parsed === null || parsed === undefined) return {};
  if (!isObject(parsed)) {
    problems.push('instance.yaml: the document must be a mapping of keys');
    return {};
  }
  return parsed;
}

function locateConfig(options: LoadOptions, env: Env, cwd: string): { path: string; required: boolean } {
  if (options.configPath) return { path: resolve(cwd, options.configPath), required: true };
  if (env.AGNES_CONFIG) return { path: resolve(cwd, env.AGNES_CONFIG), required: true };
  return { path: resolve(cwd, env.CONFIG_DIR || './config', 'instance.yaml'), required: false };
}

/** Loads `instance.yaml` + environment into one validated configuration, or throws ConfigError. */
export function loadConfig(options: LoadOptions = {}): LoadedConfig {
  registerConfigFormats();
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const problems: string[] = [];
  const warnings: string[] = [];

  const location = locateConfig(options, env, cwd);
  let raw: Tree = {};
  let configPath: string | null = null;
  if (existsSync(location.path)) {
    configPath = location.path;
    raw = readYaml(location.path, problems);
  } else if (location.required) {
    throw new ConfigError([`config: file ${location.path} does not exist (set by AGNES_CONFIG)`]);
  }
  if (problems.length > 0) throw new ConfigError(problems);

  checkDatabaseUrl(env, problems);
  const connectors = options.connectors ?? [];
  const ConfigSchema = configSchema(connectors);
  removeUnknownKeys(ConfigSchema, raw, '', problems, knownPaths(ConfigSchema));
  const llmKeyDefaulted = !isObject(raw.llm) || !('api_key' in raw.llm);
  // User values are resolved first and escaped, so that an optional reference left unset lets the
  // default apply, and a resolved value is never scanned a second time.
  const envProblems: EnvProblem[] = [];
  const userResolved = escapeReferences(resolveTree(raw, env, envProblems));
  const withDefaults = Value.Default(ConfigSchema, userResolved);
  const resolved = convertScalars(ConfigSchema, resolveTree(withDefaults, env, envProblems));
  for (const problem of envProblems) problems.push(`config: ${problem.path}: ${problem.message}`);

  const seen = new Set<string>(envProblems.map((problem) => problem.path));
  for (const error of Value.Errors(ConfigSchema, resolved)) {
    const path = keyPath(error.path);
    if (seen.has(path) || [...seen].some((p) => path.startsWith(`${p}.`) || path.startsWith(`${p}[`)))
      continue;
    seen.add(path);
    problems.push(`config: ${path || '(root)'}: ${describeError(error)}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const config = Value.Decode(ConfigSchema, resolved) as InstanceConfig;
  applyEnvironmentOverrides(config, env, problems);
  checkCrossFieldRules(config, problems, warnings, llmKeyDefaulted);
  checkSources(config, connectors, cwd, env, problems, warnings);
  if (problems.length > 0) throw new ConfigError(problems);

  const dataDir = resolve(cwd, options.dataDir ?? env.DATA_DIR ?? options.defaultDataDir ?? './data');
  return { config: deepFreeze(config), configPath, dataDir, warnings };
}

function checkDatabaseUrl(env: Env, problems: string[]): void {
  const url = env.DATABASE_URL;
  if (!url) return;
  if (!/^postgres(ql)?:\/\//.test(url)) {
    problems.push('DATABASE_URL: must be a postgres:// URL (unset it to use SQLite)');
  } else if (!URL.canParse(url)) {
    // The URL itself is never echoed: it may hold the password.
    problems.push('DATABASE_URL: is not a valid postgres:// URL');
  }
}

function applyEnvironmentOverrides(config: InstanceConfig, env: Env, problems: string[]): void {
  if (env.PORT !== undefined && env.PORT !== '') {
    const port = Number(env.PORT);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      problems.push('PORT: must be an integer between 0 and 65535');
    else config.server.port = port;
  }
}

function originOf(url: string): string | null {
  try {
    const parsed = new URL(url);
    if (parsed.pathname !== '/' || parsed.search || parsed.hash || parsed.username || parsed.password)
      return null;
    return parsed.origin;
  } catch {
    return null;
  }
}

/** A service base URL (a path prefix allowed): http(s), no credentials, query or fragment. */
function isServiceUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return (
      (parsed.protocol === 'http:' || parsed.protocol === 'https:') &&
      !parsed.search &&
      !parsed.hash &&
      !parsed.username &&
      !parsed.password
    );
  } catch {
    return false;
  }
}

function isProxyAddress(entry: string): boolean {
  const [address, bits, ...rest] = entry.split('/');
  if (rest.length > 0 || !address) return false;
  const version = isIP(address);
  if (version === 0) return false;
  if (bits === undefined) return true;
  const n = Number(bits);
  return /^[0-9]{1,3}$/.test(bits) && n <= (version === 4 ? 32 : 128);
}

function luminance(hex: string): number {
  const full = hex.length === 4 ? hex.replace(/([0-9a-f])/gi, '$1$1') : hex.slice(0, 7);
  const channels = [1, 3, 5].map((i) => Number.parseInt(full.slice(i, i + 2), 16) / 255);
  const [r, g, b] = channels.map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4)) as [
    number,
    number,
    number,
  ];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function checkCrossFieldRules(
  config: InstanceConfig,
  problems: string[],
  warnings: string[],
  llmKeyDefaulted: boolean,
): void {
  const server = config.server;
  if (server.public_url !== undefined) {
    const origin = originOf(server.public_url);
    if (!origin) problems.push('config: server.public_url: must be an absolute http(s) URL without a path');
    else server.public_url = origin;
  } else {
    server.public_url = `http://localhost:${server.port}`;
  }
  if (Array.isArray(server.trust_proxy)) {
    server.trust_proxy.forEach((entry, i) => {
      if (!isProxyAddress(entry))
        problems.push(`config: server.trust_proxy[${i}]: must be an IP address or CIDR range`);
    });
  }
  server.cors_origins.forEach((entry, i) => {
    if (!originOf(entry))
      problems.push(`config: server.cors_origins[${i}]: must be an origin such as https://app.example.com`);
  });

  config.auth.google.allowed_domains.forEach((domain, i) => {
    if (!DOMAIN.test(domain))
      problems.push(`config: auth.google.allowed_domains[${i}]: must be a domain name`);
  });
  if (config.auth.pat.default_expiry_days > config.auth.pat.max_expiry_days) {
    problems.push('config: auth.pat.default_expiry_days: must not exceed auth.pat.max_expiry_days');
  }
  if (config.query.default_limit > config.query.max_limit) {
    problems.push('config: query.default_limit: must not exceed query.max_limit');
  }

  const llm = config.llm;
  if (llm.provider !== 'none') {
    if (!llm.api_key) {
      problems.push(
        llmKeyDefaulted
          ? 'config: llm.api_key: environment variable LLM_API_KEY is not set'
          : `config: llm.api_key: is required for provider ${llm.provider}`,
      );
    }
    if (llm.provider === 'openai_compat') {
      if (!llm.base_url) problems.push('config: llm.base_url: is required for provider openai_compat');
      if (!llm.model) problems.push('config: llm.model: is required for provider openai_compat');
    }
    if (llm.provider === 'anthropic' && !llm.model) llm.model = 'claude-haiku-4-5';
  }

  const om = config.openmetadata;
  if (om.url !== undefined && !isServiceUrl(om.url)) {
    problems.push(
      'config: openmetadata.url: must be an absolute http(s) URL without credentials, query or fragment',
    );
  }
  if (Boolean(om.url) !== Boolean(om.token)) {
    warnings.push(
      'openmetadata: needs both url and token (OPENMETADATA_URL, OPENMETADATA_TOKEN); it stays off',
    );
  }

  const ws = config.ws_gateway;
  if (ws.public_url && !/^wss?:\/\/[^\s]+$/.test(ws.public_url)) {
    problems.push('config: ws_gateway.public_url: must be a ws:// or wss:// URL');
  }
  if (!ws.allowed_origins) ws.allowed_origins = server.public_url ? [server.public_url] : [];

  const token = config.notifications.dispatch_token;
  if (token !== undefined && token.length < 32) {
    problems.push('config: notifications.dispatch_token: must be at least 32 characters');
  }

  try {
    new Intl.DateTimeFormat('en', { timeZone: config.scheduler.timezone });
  } catch {
    problems.push('config: scheduler.timezone: must be an IANA time zone such as Europe/Prague');
  }

  const text = luminance(config.theme.text_primary);
  const background = luminance(config.theme.background);
  const contrast = (Math.max(text, background) + 0.05) / (Math.min(text, background) + 0.05);
  if (contrast < 4.5)
    warnings.push(`theme: text/background contrast ${contrast.toFixed(2)}:1 is below 4.5:1`);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
