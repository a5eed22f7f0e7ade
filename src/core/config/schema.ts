import { type StaticDecode, type TOptional, type TProperties, type TSchema, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { type Connector, ConnectorRegistry } from '../extract/connector.js';
import { parseSize, SIZE_PATTERN } from './size.js';

/**
 * The one schema of `instance.yaml` (11-configuration.md §2). Defaults of the form `${NAME?}` are
 * environment references, resolved after defaults are applied. Sizes decode to bytes.
 */

export const section = <T extends TProperties>(properties: T) =>
  Type.Object(properties, { additionalProperties: false, default: {} });

export const str = (def: string, options: object = {}) => Type.String({ default: def, ...options });
const optStr = (options: object = {}) => Type.Optional(Type.String(options));
/** A key whose default reads an environment variable; absent (undefined) when the variable is unset. */
export const envStr = (reference: string) => Type.Optional(Type.String({ default: reference }));
export const int = (def: number, minimum = 0, maximum?: number) =>
  Type.Integer({ default: def, minimum, ...(maximum === undefined ? {} : { maximum }) });
const num = (def: number, minimum = 0, maximum?: number) =>
  Type.Number({ default: def, minimum, ...(maximum === undefined ? {} : { maximum }) });
export const bool = (def: boolean) => Type.Boolean({ default: def });
const strList = (def: string[]) => Type.Array(Type.String(), { default: def });
export const schedule = (def: string) => Type.String({ default: def, format: 'schedule' });
// The literal union is built from a runtime list, so its static type is declared: one of `values`.
export const oneOf = <const V extends readonly string[]>(values: V, def?: V[number]) =>
  Type.Unsafe<V[number]>(
    Type.Union(
      values.map((v) => Type.Literal(v)),
      { ...(def === undefined ? {} : { default: def }), errorMessage: `must be one of ${values.join(', ')}` },
    ),
  );
export const size = (def: string) =>
  Type.Transform(
    Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: SIZE_PATTERN })], {
      default: def,
      errorMessage: 'must be a size such as 512MB or a number of bytes',
    }),
  )
    .Decode((value) => parseSize(value))
    .Encode((value) => value);

const COLOUR = {
  pattern: '^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$',
  errorMessage: 'must be a hex colour such as #2563eb',
};
const colour = (def: string) => str(def, COLOUR);

const RateLimit = Type.Object(
  { max: Type.Integer({ minimum: 1 }), window_seconds: Type.Integer({ minimum: 1 }) },
  { additionalProperties: false },
);

export const RATE_LIMIT_NAMES = [
  'login',
  'login_per_email',
  'mail',
  'mail_per_email',
  'verify',
  'bootstrap',
  'telegram_verify',
  'access_request',
  'upload',
  'query',
  'webhook',
  'default',
] as const;

/**
 * Every section but the connectors' own: `data_sources.<key>` comes from each connector's
 * `config.schema` (`configSchema(connectors)` below), so core names no connector.
 */
const sections = (connectors: readonly Connector[]) => ({
  instance: section({
    name: str('Agnes', { minLength: 1, maxLength: 100 }),
    subtitle: str('AI Data Analyst', { maxLength: 200 }),
    copyright: str('', { maxLength: 200 }),
    logo_path: str(''),
    language: str('en', {
      pattern: '^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})?$',
      errorMessage: 'must be a language tag such as en',
    }),
  }),
  server: section({
    host: str('0.0.0.0'),
    port: int(8000, 0, 65535),
    public_url: optStr({
      format: 'http-url',
      errorMessage: 'must be an absolute http(s) URL without a path',
    }),
    trust_proxy: Type.Union([Type.Boolean(), Type.Array(Type.String())], {
      default: false,
      errorMessage: 'must be true, false or a list of proxy addresses',
    }),
    cors_origins: strList([]),
    docs: bool(true),
    body_limit_bytes: int(1_048_576, 1024),
    request_timeout_seconds: int(60, 1),
    log_level: oneOf(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
      '${LOG_LEVEL:-info}' as 'info',
    ),
  }),
  auth: section({
    jwt_ttl_hours: int(24, 1, 720),
    password: section({ enabled: bool(true), min_length: int(10, 8, 128) }),
    magic_link: section({ enabled: bool(true), ttl_minutes: int(15, 5, 60) }),
    invite_ttl_hours: int(72, 1),
    reset_ttl_minutes: int(30, 5),
    google: section({
      client_id: envStr('${GOOGLE_CLIENT_ID?}'),
      client_secret: envStr('${GOOGLE_CLIENT_SECRET?}'),
      allowed_domains: strList([]),
      issuer: str('https://accounts.google.com', {
        format: 'http-url',
        errorMessage: 'must be an absolute http(s) URL',
      }),
      default_role: oneOf(['viewer', 'analyst'], 'analyst'),
      auto_create: bool(true),
    }),
    bootstrap_token: envStr('${AGNES_BOOTSTRAP_TOKEN?}'),
    pat: section({
      default_expiry_days: int(90, 1),
      max_expiry_days: int(365, 1),
      max_per_user: int(50, 1),
    }),
    rate_limits: section(
      Object.fromEntries(RATE_LIMIT_NAMES.map((name) => [name, Type.Optional(RateLimit)])) as Record<
        (typeof RATE_LIMIT_NAMES)[number],
        TOptional<typeof RateLimit>
      >,
    ),
  }),
  email: section({
    from: str('${SMTP_FROM:-Agnes <no-reply@localhost>}'),
    smtp: section({
      host: envStr('${SMTP_HOST?}'),
      port: Type.Integer({ default: '${SMTP_PORT:-587}' as unknown as number, minimum: 1, maximum: 65535 }),
      secure: bool(false),
      require_starttls: bool(true),
      user: envStr('${SMTP_USER?}'),
      password: envStr('${SMTP_PASSWORD?}'),
    }),
  }),
  theme: section({
    primary: colour('#2563eb'),
    primary_dark: colour('#1d4ed8'),
    primary_light: colour('#dbeafe'),
    text_primary: colour('#111827'),
    text_secondary: colour('#4b5563'),
    background: colour('#f9fafb'),
    surface: colour('#ffffff'),
    border: colour('#e5e7eb'),
    font_primary: str('system-ui, -apple-system, "Segoe UI", sans-serif', {
      pattern: '^[A-Za-z0-9 ,\'"-]{1,200}$',
      errorMessage: 'must be a font list of letters, digits, spaces, commas, quotes and hyphens',
    }),
    radius: str('8px', {
      pattern: '^[0-9]{1,2}(px|rem)$',
      errorMessage: 'must be a length such as 8px or 1rem',
    }),
    success: colour('#15803d'),
    warning: colour('#b45309'),
    error: colour('#b91c1c'),
  }),
  data_sources: section(
    Object.fromEntries(
      connectors.flatMap((c) =>
        c.config && c.config.placement !== 'root' ? [[c.config.key, c.config.schema]] : [],
      ),
    ),
  ),
  analytics: section({
    remote_extensions: strList(new ConnectorRegistry(connectors).remoteExtensions),
    install_extensions: bool(false),
  }),
  sync: section({
    default_schedule: schedule('every 1h'),
    parallel_sources: int(2, 1, 16),
    extract_timeout_seconds: int(3600, 1),
    history_retention_days: int(180, 1),
    stale_after_hours: int(24, 1),
  }),
  query: section({
    timeout_seconds: int(30, 1, 600),
    default_limit: int(1000, 1),
    max_limit: int(100_000, 1),
    max_result_bytes: size('50MB'),
    max_sql_bytes: size('100KB'),
    memory_limit: size('1GB'),
    threads: int(2, 1, 64),
    max_temp_bytes: size('2GB'),
    per_user_concurrency: int(2, 1),
    global_concurrency: int(8, 1),
    max_export_rows: int(5_000_000, 1),
    export_timeout_seconds: int(300, 1),
    sandbox_cache_size: int(16, 1),
  }),
  profiler: section({
    sample_size: int(500_000, 1),
    max_categorical_distinct: int(50, 1),
    top_values_limit: int(10, 1),
    histogram_bins: int(15, 1, 200),
    sample_rows_limit: int(5, 0),
    sample_values_limit: int(5, 0),
    alert_high_missing_pct: num(30, 0, 100),
    alert_missing_pct: num(5, 0, 100),
    alert_imbalance_pct: num(60, 0, 100),
    alert_high_cardinality: num(50, 0),
    alert_zeros_pct: num(50, 0, 100),
    memory_limit: size('2GB'),
    threads: int(2, 1, 64),
  }),
  openmetadata: section({
    url: envStr('${OPENMETADATA_URL?}'),
    token: envStr('${OPENMETADATA_TOKEN?}'),
    cache_ttl_seconds: int(3600, 0),
    filter_tag: str(''),
    data_product: str(''),
    fqn_template: str(''),
  }),
  llm: section({
    provider: oneOf(['none', 'anthropic', 'openai_compat'], 'none'),
    api_key: envStr('${LLM_API_KEY?}'),
    base_url: optStr({ format: 'http-url', errorMessage: 'must be an absolute http(s) URL' }),
    model: optStr({ minLength: 1 }),
    structured_output: oneOf(['strict', 'json', 'auto'], 'auto'),
    timeout_seconds: int(60, 1),
    max_retries: int(2, 0, 10),
  }),
  corporate_memory: section({
    approval_mode: oneOf(['review_queue', 'auto_publish'], 'review_queue'),
    include_sessions: bool(false),
    schedule: schedule('every 30m'),
    categories: strList([
      'data_analysis',
      'api_integration',
      'debugging',
      'performance',
      'workflow',
      'infrastructure',
      'business_logic',
    ]),
    review_period_months: int(12, 1),
    /** Catalog titles given to each extraction call (08 §4.3). */
    catalog_context_items: int(200, 0, 10_000),
  }),
  telegram: section({
    bot_token: envStr('${TELEGRAM_BOT_TOKEN?}'),
    bot_username: str(''),
    api_root: str('https://api.telegram.org', {
      format: 'http-url',
      errorMessage: 'must be an absolute http(s) URL',
    }),
    listen_host: str('127.0.0.1'),
    listen_port: int(8767, 0, 65535),
    dispatch_url: str('http://127.0.0.1:8767', {
      format: 'http-url',
      errorMessage: 'must be an absolute http(s) URL',
    }),
    code_ttl_minutes: int(10, 1),
  }),
  ws_gateway: section({
    host: str('0.0.0.0'),
    port: int(8765, 0, 65535),
    public_url: str(''),
    allowed_origins: Type.Optional(Type.Array(Type.String())),
    dispatch_host: str('127.0.0.1'),
    dispatch_port: int(8766, 0, 65535),
    dispatch_url: str('http://127.0.0.1:8766', {
      format: 'http-url',
      errorMessage: 'must be an absolute http(s) URL',
    }),
    max_connections_per_user: int(5, 1, 100),
    heartbeat_seconds: int(30, 1, 300),
    missed_heartbeats: int(3, 1, 10),
    auth_timeout_seconds: int(10, 1, 60),
    recheck_seconds: int(300, 5, 3600),
    /** Whether `agnes serve` runs the gateway itself; off when a separate `agnes ws-gateway` runs. */
    in_process: bool(false),
  }),
  notifications: section({
    dispatch_token: envStr('${AGNES_DISPATCH_TOKEN?}'),
    retention_days: int(90, 1),
    /** The first retry of a failed delivery; later ones wait 4, 20, 60 and 240 times as long (08 §8). */
    retry_base_seconds: int(30, 1, 3600),
  }),
  policies: section({
    /** How long a request waits for its slice before 503 `slice_pending` (12 §6). */
    slice_wait_seconds: int(30, 1, 600),
    /** Slices unused this long are deleted by maintenance; 0 deletes every unused one. */
    slice_ttl_days: int(7, 0),
  }),
  jobs: section({
    /** How often a replica renews the claim on its running jobs; 3 missed renewals mean it died (13 §3). */
    heartbeat_seconds: int(30, 1, 3600),
  }),
  state: section({
    /** Connections of the PostgreSQL state store (13 §2); unused with SQLite. */
    pool_size: int(10, 1, 1000),
    connect_timeout_seconds: int(30, 1, 600),
  }),
  scheduler: section({
    /** Whether `agnes serve` runs the scheduler itself; off when a separate `agnes scheduler` runs. */
    in_process: bool(true),
    tick_seconds: int(30, 1, 300),
    max_jitter_seconds: int(0, 0, 600),
    timezone: str('UTC'),
    health_interval: schedule('every 5m'),
    maintenance_schedule: schedule('daily 03:00'),
  }),
  scripts: section({
    enabled: bool(true),
    allow_unisolated: bool(false),
    timeout_seconds: int(300, 1),
    max_output_bytes: size('64KB'),
    max_source_bytes: size('256KB'),
    memory_limit_mb: int(512, 16),
    max_concurrent: int(2, 1),
    python_path: str('/usr/bin/python3'),
    bwrap_path: str('/usr/bin/bwrap'),
  }),
  session_collector: section({
    schedule: schedule('every 10m'),
    retention_days: int(180, 1),
  }),
  limits: section({
    upload_max_bytes: size('50MB'),
    local_md_max_bytes: size('1MB'),
    artifact_extensions: strList([
      '.html',
      '.png',
      '.jpg',
      '.jpeg',
      '.svg',
      '.csv',
      '.json',
      '.md',
      '.txt',
      '.pdf',
      '.parquet',
    ]),
    audit_retention_days: int(365, 1),
    max_pending_access_requests: int(20, 1),
  }),
  mcp: section({
    enabled: bool(true),
    default_limit: int(100, 1),
    max_result_chars: int(50_000, 1_000),
  }),
});

/** The one schema of `instance.yaml` for a process running these connectors. */
export function configSchema(connectors: readonly Connector[]) {
  const core = sections(connectors);
  // Top-level sections of connectors (11 §2.5 `jira:`): typed by their connector, not here.
  const root: Record<string, TSchema> = {};
  for (const c of connectors) {
    if (c.config?.placement !== 'root') continue;
    if (c.config.key in core || c.config.key in root)
      throw new Error(`connector ${c.type} claims the configuration key ${c.config.key} twice`);
    root[c.config.key] = c.config.schema;
  }
  return section({ ...core, ...root } as typeof core);
}

export type InstanceConfig = StaticDecode<ReturnType<typeof configSchema>>;

type SectionName = keyof ReturnType<typeof sections>;

/**
 * One section with nothing configured: its defaults, for a process that has no instance.yaml but
 * applies the same limits (`da mcp` answers like the server's MCP tools).
 */
export function defaultSection<K extends SectionName>(key: K): InstanceConfig[K] {
  const schema = sections([])[key];
  return Value.Decode(schema, Value.Default(schema, {})) as InstanceConfig[K];
}

/** Walks schema kinds the loader cares about; TypeBox keeps these as plain JSON Schema keywords. */
export function childSchema(schema: TSchema, key: string | number): TSchema | undefined {
  const s = schema as Record<string, unknown>;
  if (s.properties && typeof key === 'string') return (s.properties as Record<string, TSchema>)[key];
  if (s.patternProperties) return Object.values(s.patternProperties as Record<string, TSchema>)[0];
  if (s.items && typeof key === 'number') return s.items as TSchema;
  return undefined;
}
