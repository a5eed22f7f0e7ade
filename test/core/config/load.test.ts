import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BUILT_IN_CONNECTORS } from '../../../src/connectors/index.js';
import { ConfigError, type LoadedConfig, loadConfig } from '../../../src/core/config/index.js';
import type { Env } from '../../../src/core/config/resolve-env.js';
import { defaultSection } from '../../../src/core/config/schema.js';
import type { Connector } from '../../../src/core/extract/connector.js';
import { fakeConnector } from '../../support/connectors.js';
import { tempDir } from '../../support/extracts.js';

let dir: string;
let cleanup: () => Promise<void>;

beforeEach(async () => {
  ({ path: dir, cleanup } = await tempDir('agnes-config-'));
});

afterEach(async () => {
  await cleanup();
});

const KiB = 1024;
const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

/** Writes `instance.yaml` into the test directory and loads it through AGNES_CONFIG. */
async function load(
  yaml: string,
  env: Env = {},
  connectors: readonly Connector[] = BUILT_IN_CONNECTORS,
): Promise<LoadedConfig> {
  const path = join(dir, 'instance.yaml');
  await writeFile(path, yaml);
  return loadConfig({ env: { AGNES_CONFIG: path, ...env }, cwd: dir, connectors });
}

/** The problems a configuration is refused with (fails the test when it loads). */
async function problems(
  yaml: string,
  env: Env = {},
  connectors: readonly Connector[] = BUILT_IN_CONNECTORS,
): Promise<string[]> {
  try {
    await load(yaml, env, connectors);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('the configuration was accepted');
}

describe('defaults', () => {
  it('gives every section its defaults when no instance.yaml exists', () => {
    const loaded = loadConfig({ env: {}, cwd: dir, connectors: BUILT_IN_CONNECTORS });
    const { config } = loaded;
    expect(loaded.configPath).toBeNull();
    expect(loaded.dataDir).toBe(join(dir, 'data'));
    expect(loaded.warnings).toEqual([]);
    expect(Object.keys(config).sort()).toEqual(
      [
        'instance',
        'server',
        'auth',
        'email',
        'theme',
        'data_sources',
        'analytics',
        'sync',
        'query',
        'profiler',
        'openmetadata',
        'llm',
        'corporate_memory',
        'telegram',
        'ws_gateway',
        'notifications',
        'policies',
        'jobs',
        'state',
        'scheduler',
        'scripts',
        'session_collector',
        'limits',
        'mcp',
        'jira',
      ].sort(),
    );
    expect(config.instance).toEqual({
      name: 'Agnes',
      subtitle: 'AI Data Analyst',
      copyright: '',
      logo_path: '',
      language: 'en',
    });
    expect(config.server).toMatchObject({
      host: '0.0.0.0',
      port: 8000,
      public_url: 'http://localhost:8000',
      trust_proxy: false,
      cors_origins: [],
      docs: true,
      body_limit_bytes: 1_048_576,
      request_timeout_seconds: 60,
      log_level: 'info',
    });
    expect(config.auth).toMatchObject({
      jwt_ttl_hours: 24,
      password: { enabled: true, min_length: 10 },
      magic_link: { enabled: true, ttl_minutes: 15 },
      invite_ttl_hours: 72,
      reset_ttl_minutes: 30,
      pat: { default_expiry_days: 90, max_expiry_days: 365, max_per_user: 50 },
    });
    expect(config.auth.google).toMatchObject({
      allowed_domains: [],
      issuer: 'https://accounts.google.com',
      default_role: 'analyst',
      auto_create: true,
    });
    expect(config.email).toMatchObject({
      from: 'Agnes <no-reply@localhost>',
      smtp: { port: 587, secure: false, require_starttls: true },
    });
    expect(config.theme.primary).toBe('#2563eb');
    expect(config.data_sources).toEqual({
      local: [],
      keboola: {
        token_env: 'KEBOOLA_STORAGE_TOKEN',
        parallel_tables: 2,
        export_timeout_seconds: 1800,
        incremental_lag_seconds: 60,
      },
      bigquery: { location: '', api_endpoint: 'https://bigquery.googleapis.com' },
    });
    // The built-in connectors that attach remote catalogs allow their extensions by default.
    expect(config.analytics).toEqual({
      remote_extensions: ['keboola', 'bigquery'],
      install_extensions: false,
    });
    expect(config.sync).toEqual({
      default_schedule: 'every 1h',
      parallel_sources: 2,
      extract_timeout_seconds: 3600,
      history_retention_days: 180,
      stale_after_hours: 24,
    });
    expect(config.profiler).toMatchObject({ sample_size: 500_000, histogram_bins: 15, threads: 2 });
    expect(config.llm).toMatchObject({ provider: 'none', structured_output: 'auto', max_retries: 2 });
    expect(config.corporate_memory.approval_mode).toBe('review_queue');
    expect(config.telegram).toMatchObject({ listen_host: '127.0.0.1', listen_port: 8767 });
    expect(config.ws_gateway.allowed_origins).toEqual(['http://localhost:8000']);
    expect(config.scheduler).toEqual({
      in_process: true,
      tick_seconds: 30,
      max_jitter_seconds: 0,
      timezone: 'UTC',
      health_interval: 'every 5m',
      maintenance_schedule: 'daily 03:00',
    });
    expect(config.session_collector).toEqual({ schedule: 'every 10m', retention_days: 180 });
    expect(config.limits.artifact_extensions).toContain('.parquet');
    expect(config.mcp).toEqual({ enabled: true, default_limit: 100, max_result_chars: 50_000 });
  });

  it("gives one section's defaults without a file, as loading nothing does", () => {
    const { config } = loadConfig({ env: {}, cwd: dir, connectors: BUILT_IN_CONNECTORS });
    expect(defaultSection('query')).toEqual(config.query);
    expect(defaultSection('mcp')).toEqual(config.mcp);
  });

  it('leaves keys whose default is an unset optional variable absent', () => {
    const { config } = loadConfig({ env: {}, cwd: dir, connectors: BUILT_IN_CONNECTORS });
    expect(config.auth.google.client_id).toBeUndefined();
    expect(config.auth.bootstrap_token).toBeUndefined();
    expect(config.email.smtp.host).toBeUndefined();
    expect(config.email.smtp.password).toBeUndefined();
    expect(config.llm.api_key).toBeUndefined();
    expect(config.llm.model).toBeUndefined();
    expect(config.notifications.dispatch_token).toBeUndefined();
    expect(config.telegram.bot_token).toBeUndefined();
  });

  it('reads defaults that are environment references from the environment', () => {
    const { config } = loadConfig({
      env: {
        SMTP_HOST: 'smtp.example.com',
        SMTP_PORT: '2525',
        SMTP_FROM: 'Data <data@example.com>',
        LOG_LEVEL: 'debug',
        AGNES_DISPATCH_TOKEN: 'd'.repeat(32),
      },
      cwd: dir,
    });
    expect(config.email.smtp.host).toBe('smtp.example.com');
    expect(config.email.smtp.port).toBe(2525);
    expect(config.email.from).toBe('Data <data@example.com>');
    expect(config.server.log_level).toBe('debug');
    expect(config.notifications.dispatch_token).toBe('d'.repeat(32));
  });

  it('decodes every size to bytes with binary units', async () => {
    const defaults = loadConfig({ env: {}, cwd: dir, connectors: BUILT_IN_CONNECTORS }).config;
    expect(defaults.query.max_result_bytes).toBe(50 * MiB);
    expect(defaults.query.max_sql_bytes).toBe(100 * KiB);
    expect(defaults.query.memory_limit).toBe(GiB);
    expect(defaults.query.max_temp_bytes).toBe(2 * GiB);
    expect(defaults.profiler.memory_limit).toBe(2 * GiB);
    expect(defaults.scripts.max_output_bytes).toBe(64 * KiB);
    expect(defaults.scripts.max_source_bytes).toBe(256 * KiB);
    expect(defaults.limits.upload_max_bytes).toBe(50 * MiB);
    expect(defaults.limits.local_md_max_bytes).toBe(MiB);

    const { config } = await load(
      'query:\n  max_result_bytes: "512MB"\n  max_sql_bytes: 2048\n  memory_limit: "1.5GB"\n  max_temp_bytes: "3 KB"\n',
    );
    expect(config.query.max_result_bytes).toBe(512 * MiB);
    expect(config.query.max_sql_bytes).toBe(2048);
    expect(config.query.memory_limit).toBe(1.5 * GiB);
    expect(config.query.max_temp_bytes).toBe(3 * KiB);
    expect(await problems('query:\n  memory_limit: "12 parsecs"\n')).toEqual([
      'config: query.memory_limit: must be a size such as 512MB or a number of bytes',
    ]);
  });

  it('lets PORT override server.port, and derives public_url from the effective port', async () => {
    const fromEnv = loadConfig({ env: { PORT: '9123' }, cwd: dir, connectors: BUILT_IN_CONNECTORS }).config;
    expect(fromEnv.server.port).toBe(9123);
    expect(fromEnv.server.public_url).toBe('http://localhost:9123');

    const overFile = await load('server:\n  port: 8100\n', { PORT: '9200' });
    expect(overFile.config.server.port).toBe(9200);

    const explicitUrl = await load('server:\n  public_url: "https://data.acme.example/"\n', { PORT: '9300' });
    expect(explicitUrl.config.server.public_url).toBe('https://data.acme.example');
    expect(explicitUrl.config.ws_gateway.allowed_origins).toEqual(['https://data.acme.example']);

    expect(() => loadConfig({ env: { PORT: 'eighty' }, cwd: dir, connectors: BUILT_IN_CONNECTORS })).toThrow(
      'PORT: must be an integer between 0 and 65535',
    );
  });

  it('freezes the loaded configuration', () => {
    const { config } = loadConfig({ env: {}, cwd: dir, connectors: BUILT_IN_CONNECTORS });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.server)).toBe(true);
    expect(() => {
      (config.server as { port: number }).port = 1;
    }).toThrow(TypeError);
  });
});

describe('locating instance.yaml', () => {
  it('accepts a missing default file but refuses a missing AGNES_CONFIG file', async () => {
    const missingDefault = loadConfig({
      env: { CONFIG_DIR: join(dir, 'nowhere') },
      cwd: dir,
      connectors: BUILT_IN_CONNECTORS,
    });
    expect(missingDefault.configPath).toBeNull();
    expect(missingDefault.config.instance.name).toBe('Agnes');

    const missing = join(dir, 'missing.yaml');
    let thrown: unknown;
    try {
      loadConfig({ env: { AGNES_CONFIG: missing }, cwd: dir, connectors: BUILT_IN_CONNECTORS });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).problems).toEqual([
      `config: file ${missing} does not exist (set by AGNES_CONFIG)`,
    ]);
  });

  it('reads instance.yaml from CONFIG_DIR, relative to the working directory', async () => {
    await mkdir(join(dir, 'conf'));
    await writeFile(join(dir, 'conf', 'instance.yaml'), 'instance:\n  name: "From CONFIG_DIR"\n');
    const loaded = loadConfig({ env: { CONFIG_DIR: 'conf' }, cwd: dir, connectors: BUILT_IN_CONNECTORS });
    expect(loaded.configPath).toBe(join(dir, 'conf', 'instance.yaml'));
    expect(loaded.config.instance.name).toBe('From CONFIG_DIR');
  });

  it('reads ./config/instance.yaml by default', async () => {
    await mkdir(join(dir, 'config'));
    await writeFile(join(dir, 'config', 'instance.yaml'), 'instance:\n  name: "Default place"\n');
    const loaded = loadConfig({ env: {}, cwd: dir, connectors: BUILT_IN_CONNECTORS });
    expect(loaded.configPath).toBe(join(dir, 'config', 'instance.yaml'));
    expect(loaded.config.instance.name).toBe('Default place');
  });

  it('prefers AGNES_CONFIG over CONFIG_DIR', async () => {
    await mkdir(join(dir, 'conf'));
    await writeFile(join(dir, 'conf', 'instance.yaml'), 'instance:\n  name: "CONFIG_DIR"\n');
    await writeFile(join(dir, 'other.yaml'), 'instance:\n  name: "AGNES_CONFIG"\n');
    const loaded = loadConfig({
      env: { CONFIG_DIR: 'conf', AGNES_CONFIG: 'other.yaml' },
      cwd: dir,
      connectors: BUILT_IN_CONNECTORS,
    });
    expect(loaded.config.instance.name).toBe('AGNES_CONFIG');
  });

  it('takes the data directory from the option, DATA_DIR, then the given default', () => {
    expect(loadConfig({ env: { DATA_DIR: 'd1' }, cwd: dir, connectors: BUILT_IN_CONNECTORS }).dataDir).toBe(
      join(dir, 'd1'),
    );
    expect(
      loadConfig({
        env: { DATA_DIR: 'd1' },
        cwd: dir,
        connectors: BUILT_IN_CONNECTORS,
        dataDir: '/srv/agnes',
      }).dataDir,
    ).toBe('/srv/agnes');
    expect(
      loadConfig({ env: {}, cwd: dir, connectors: BUILT_IN_CONNECTORS, defaultDataDir: './demo-data' })
        .dataDir,
    ).toBe(join(dir, 'demo-data'));
  });

  it('treats an empty document as all defaults', async () => {
    const loaded = await load('# nothing configured yet\n');
    expect(loaded.configPath).toBe(join(dir, 'instance.yaml'));
    expect(loaded.config.server.port).toBe(8000);
  });

  it('loads the example of the specification', async () => {
    const yaml = `instance:
  name: "Acme Data"
  subtitle: "Governed data for analysts"
server:
  public_url: "https://data.acme.example"
  trust_proxy: ["10.0.0.0/8"]
auth:
  google:
    allowed_domains: ["acme.example"]
email:
  from: "Acme Data <data@acme.example>"
theme:
  primary: "#0f766e"
data_sources:
  local:
    - name: finance_files
      path: ./finance-exports
llm:
  provider: anthropic
  api_key: "\${ANTHROPIC_API_KEY}"
notifications:
  dispatch_token: "\${AGNES_DISPATCH_TOKEN?}"
ws_gateway:
  public_url: "wss://data.acme.example/ws"
`;
    const { config, warnings } = await load(yaml, { ANTHROPIC_API_KEY: 'sk-ant-example' });
    expect(config.instance.name).toBe('Acme Data');
    expect(config.server.public_url).toBe('https://data.acme.example');
    expect(config.server.trust_proxy).toEqual(['10.0.0.0/8']);
    expect(config.data_sources.local).toEqual([
      {
        name: 'finance_files',
        path: './finance-exports',
        csv: { header: true, encoding: 'utf-8' },
      },
    ]);
    expect(config.llm).toMatchObject({
      provider: 'anthropic',
      api_key: 'sk-ant-example',
      model: 'claude-haiku-4-5',
    });
    expect(config.notifications.dispatch_token).toBeUndefined();
    expect(config.ws_gateway.public_url).toBe('wss://data.acme.example/ws');
    // A local source directory that does not exist is a warning at startup, an error at sync time.
    expect(warnings).toEqual(['data_sources.local[0].path: finance_files: directory does not exist']);
  });
});

describe('validation messages', () => {
  it.each([
    ['instance_name: "Acme"\n', 'config: unknown key "instance_name" (did you mean "instance.name"?)'],
    ['server:\n  prot: 80\n', 'config: unknown key "server.prot" (did you mean "server.port"?)'],
    [
      'server:\n  public_url: "https://data.acme.example/agnes"\n',
      'config: server.public_url: must be an absolute http(s) URL without a path',
    ],
    [
      'server:\n  public_url: "data.acme.example"\n',
      'config: server.public_url: must be an absolute http(s) URL without a path',
    ],
    [
      'auth:\n  google:\n    default_role: admin\n',
      'config: auth.google.default_role: must be one of viewer, analyst',
    ],
    ['theme:\n  primary: blue\n', 'config: theme.primary: must be a hex colour such as #2563eb'],
    ['sync:\n  default_schedule: "every 0m"\n', 'config: sync.default_schedule: invalid schedule "every 0m"'],
    [
      'notifications:\n  dispatch_token: "too-short"\n',
      'config: notifications.dispatch_token: must be at least 32 characters',
    ],
    ['llm:\n  provider: anthropic\n', 'config: llm.api_key: environment variable LLM_API_KEY is not set'],
    ['auth:\n  jwt_ttl_hours: 0\n', 'config: auth.jwt_ttl_hours: must be an integer between 1 and 720'],
    ['server:\n  port: "eighty"\n', 'config: server.port: must be an integer between 0 and 65535'],
    ['server:\n  docs: "maybe"\n', 'config: server.docs: must be true or false'],
    ['analytics:\n  remote_extensions: keboola\n', 'config: analytics.remote_extensions: must be a list'],
    ['server: 8000\n', 'config: server: must be a map of keys'],
  ])('refuses %j with the documented message', async (yaml, message) => {
    expect(await problems(yaml)).toEqual([message]);
  });

  it('checks the OpenMetadata URL and warns when only half of url and token is set', async () => {
    const message =
      'config: openmetadata.url: must be an absolute http(s) URL without credentials, query or fragment';
    for (const url of [
      'om.example.com',
      'ftp://om.example.com',
      'https://user:pw@om.example.com',
      'https://om.example.com/?a=1',
    ])
      expect(await problems(`openmetadata:\n  url: "${url}"\n  token: t\n`)).toEqual([message]);
    const half = await load('openmetadata:\n  url: "https://om.example.com/catalog"\n');
    expect(half.config.openmetadata.url).toBe('https://om.example.com/catalog');
    expect(half.warnings).toEqual([
      'openmetadata: needs both url and token (OPENMETADATA_URL, OPENMETADATA_TOKEN); it stays off',
    ]);
    const whole = await load('', { OPENMETADATA_URL: 'https://om.example.com', OPENMETADATA_TOKEN: 'jwt' });
    expect(whole.config.openmetadata).toMatchObject({ url: 'https://om.example.com', token: 'jwt' });
    expect(whole.warnings).toEqual([]);
  });

  it('names a duplicate local source', async () => {
    await mkdir(join(dir, 'in'));
    const yaml =
      'data_sources:\n  local:\n    - name: files\n      path: in\n    - name: files\n      path: in\n';
    expect(await problems(yaml)).toEqual([
      'config: data_sources.local[1].name: duplicate source name "files"',
    ]);
  });

  it('refuses local source names that are invalid or reserved', async () => {
    const yaml =
      'data_sources:\n  local:\n    - name: keboola\n      path: in\n    - name: "bad name"\n      path: in\n    - name: main\n      path: in\n';
    // `keboola` is reserved while a connector of that type runs (a built-in one): it names that connector's source.
    expect(await problems(yaml, {}, BUILT_IN_CONNECTORS)).toEqual(
      [0, 1, 2].map(
        (i) =>
          `config: data_sources.local[${i}].name: must match ^[a-zA-Z_][a-zA-Z0-9_]{0,63}$ and not be a reserved name`,
      ),
    );
  });

  it('applies the cross-field rules', async () => {
    expect(await problems('llm:\n  provider: openai_compat\n  api_key: k\n')).toEqual([
      'config: llm.base_url: is required for provider openai_compat',
      'config: llm.model: is required for provider openai_compat',
    ]);
    expect(await problems('llm:\n  provider: anthropic\n  api_key: "${CLAUDE_KEY?}"\n')).toEqual([
      'config: llm.api_key: is required for provider anthropic',
    ]);
    expect(await problems('ws_gateway:\n  public_url: "https://data.acme.example/ws"\n')).toEqual([
      'config: ws_gateway.public_url: must be a ws:// or wss:// URL',
    ]);
    expect(
      await problems('auth:\n  google:\n    allowed_domains: ["acme.example", "not a domain"]\n'),
    ).toEqual(['config: auth.google.allowed_domains[1]: must be a domain name']);
    expect(await problems('server:\n  trust_proxy: ["10.0.0.0/8", "10.0.0.0/33", "proxy"]\n')).toEqual([
      'config: server.trust_proxy[1]: must be an IP address or CIDR range',
      'config: server.trust_proxy[2]: must be an IP address or CIDR range',
    ]);
    expect(await problems('scheduler:\n  timezone: Mars/Olympus\n')).toEqual([
      'config: scheduler.timezone: must be an IANA time zone such as Europe/Prague',
    ]);
    expect(await problems('scheduler:\n  tick_seconds: 301\n  max_jitter_seconds: 601\n')).toEqual([
      'config: scheduler.tick_seconds: must be an integer between 1 and 300',
      'config: scheduler.max_jitter_seconds: must be an integer between 0 and 600',
    ]);
    expect(await problems('query:\n  default_limit: 500\n  max_limit: 100\n')).toEqual([
      'config: query.default_limit: must not exceed query.max_limit',
    ]);
    expect(await problems('scripts:\n  timeout_seconds: 0\n')).toEqual([
      'config: scripts.timeout_seconds: must be an integer at least 1',
    ]);
  });

  it('reports a YAML syntax error with its line and column', async () => {
    expect(await problems('instance:\n  name: Agnes\nserver:\n  port: 8000\n  port: 8001\n')).toEqual([
      'instance.yaml: line 5, column 3: Map keys must be unique',
    ]);
    expect(await problems('theme:\n\tprimary: "#ffffff"\n')).toEqual([
      'instance.yaml: line 2, column 1: Tabs are not allowed as indentation',
    ]);
    expect(await problems('- a\n- b\n')).toEqual(['instance.yaml: the document must be a mapping of keys']);
  });

  it('collects every problem and reports them together, one per line', async () => {
    const yaml = [
      'instance_name: Acme',
      'server:',
      '  host: "${BIND_HOST}"',
      'auth:',
      '  google:',
      '    default_role: admin',
      'theme:',
      '  primary: blue',
      'sync:',
      '  default_schedule: "every 0m"',
      '',
    ].join('\n');
    let thrown: unknown;
    try {
      await load(yaml);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    const error = thrown as ConfigError;
    expect([...error.problems].sort()).toEqual(
      [
        'config: unknown key "instance_name" (did you mean "instance.name"?)',
        'config: server.host: environment variable BIND_HOST is not set',
        'config: auth.google.default_role: must be one of viewer, analyst',
        'config: theme.primary: must be a hex colour such as #2563eb',
        'config: sync.default_schedule: invalid schedule "every 0m"',
      ].sort(),
    );
    expect(error.message.split('\n')).toEqual(error.problems);
  });

  it('never puts the value of a secret into a message', async () => {
    const secret = 'tok-9f8e7d6c5b4a-DISTINCTIVE';
    const yaml = [
      'notifications:',
      '  dispatch_token: "${AGNES_DISPATCH_TOKEN}"',
      'llm:',
      '  provider: anthropic',
      '  api_key: "${JIRA_API_TOKEN}"',
      'telegram:',
      '  bot_token: "prefix-${TELEGRAM_BOT_TOKEN}"',
      'server:',
      '  port: "${JIRA_API_TOKEN}"',
      'theme:',
      '  primary: blue',
      '',
    ].join('\n');
    const env = { AGNES_DISPATCH_TOKEN: secret, JIRA_API_TOKEN: secret, TELEGRAM_BOT_TOKEN: secret };
    const schemaProblems = await problems(yaml, env);
    expect(schemaProblems).toEqual([
      'config: server.port: must be an integer between 0 and 65535',
      'config: theme.primary: must be a hex colour such as #2563eb',
    ]);
    // The token itself fails validation here (too short).
    const tokenProblems = await problems(
      'notifications:\n  dispatch_token: "${AGNES_DISPATCH_TOKEN}"\n',
      env,
    );
    expect(tokenProblems).toEqual(['config: notifications.dispatch_token: must be at least 32 characters']);
    for (const problem of [...schemaProblems, ...tokenProblems]) {
      expect(problem).not.toContain(secret);
      expect(problem).not.toContain('DISTINCTIVE');
    }
  });
});

describe('DATABASE_URL', () => {
  it('uses SQLite when DATABASE_URL is unset or empty', () => {
    expect(loadConfig({ env: {}, cwd: dir, connectors: BUILT_IN_CONNECTORS }).config.server.port).toBe(8000);
    expect(
      loadConfig({ env: { DATABASE_URL: '' }, cwd: dir, connectors: BUILT_IN_CONNECTORS }).config.server.port,
    ).toBe(8000);
  });

  it('accepts a postgres URL, with the pool settings of the state section', async () => {
    for (const url of ['postgres://agnes:pw@db.internal:5432/agnes', 'postgresql://db.internal/agnes']) {
      const { config } = loadConfig({
        env: { DATABASE_URL: url },
        cwd: dir,
        connectors: BUILT_IN_CONNECTORS,
      });
      expect(config.state).toEqual({ pool_size: 10, connect_timeout_seconds: 30 });
      expect(config.jobs).toEqual({ heartbeat_seconds: 30 });
    }
    const loaded = await load('state:\n  pool_size: 25\n', { DATABASE_URL: 'postgres://db.internal/agnes' });
    expect(loaded.config.state.pool_size).toBe(25);
  });

  it('refuses a malformed postgres URL without echoing it', () => {
    const url = 'postgres://agnes:pg-password-XYZ@db.internal:99999/agnes';
    let thrown: unknown;
    try {
      loadConfig({ env: { DATABASE_URL: url }, cwd: dir, connectors: BUILT_IN_CONNECTORS });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).problems).toEqual(['DATABASE_URL: is not a valid postgres:// URL']);
    expect((thrown as ConfigError).message).not.toContain('pg-password-XYZ');
  });

  it('refuses any other scheme', () => {
    for (const url of ['mysql://root:secret@db/agnes', 'sqlite:///data/state.sqlite', 'not a url']) {
      expect(() =>
        loadConfig({ env: { DATABASE_URL: url }, cwd: dir, connectors: BUILT_IN_CONNECTORS }),
      ).toThrow('DATABASE_URL: must be a postgres:// URL (unset it to use SQLite)');
    }
  });

  it('is reported together with the file problems', async () => {
    expect(await problems('theme:\n  primary: blue\n', { DATABASE_URL: 'mysql://db/agnes' })).toEqual([
      'DATABASE_URL: must be a postgres:// URL (unset it to use SQLite)',
      'config: theme.primary: must be a hex colour such as #2563eb',
    ]);
  });
});

describe('connector sections', () => {
  const fake = fakeConnector({ type: 'acme', remoteExtension: 'acme_ext', rows: 7 });

  it('adds each listed connector’s section under data_sources, with its defaults and extension', async () => {
    const { config } = await load('data_sources:\n  acme:\n    enabled: true\n', {}, [
      ...BUILT_IN_CONNECTORS,
      fake,
    ]);
    expect(config.data_sources).toEqual({
      local: [],
      keboola: {
        token_env: 'KEBOOLA_STORAGE_TOKEN',
        parallel_tables: 2,
        export_timeout_seconds: 1800,
        incremental_lag_seconds: 60,
      },
      bigquery: { location: '', api_endpoint: 'https://bigquery.googleapis.com' },
      acme: { enabled: true, rows: 7 },
    });
    expect(config.analytics.remote_extensions).toEqual(['keboola', 'bigquery', 'acme_ext']);
  });

  it('refuses the section of a connector this process does not run, and unknown keys inside one', async () => {
    expect(await problems('data_sources:\n  acme:\n    enabled: true\n')).toEqual([
      'config: unknown key "data_sources.acme" (did you mean "data_sources.local"?)',
    ]);
    expect(await problems('data_sources:\n  acme:\n    enabeld: true\n', {}, [fake])).toEqual([
      'config: unknown key "data_sources.acme.enabeld" (did you mean "data_sources.acme.enabled"?)',
    ]);
  });
});
