import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BUILT_IN_CONNECTORS } from '../../../src/connectors/index.js';
import { ConfigError, type LoadedConfig, loadConfig } from '../../../src/core/config/index.js';
import {
  ABSENT,
  type Env,
  type EnvProblem,
  resolveString,
  resolveTree,
} from '../../../src/core/config/resolve-env.js';
import { tempDir } from '../../support/extracts.js';

let dir: string;
let cleanup: () => Promise<void>;

beforeEach(async () => {
  ({ path: dir, cleanup } = await tempDir('agnes-config-env-'));
});

afterEach(async () => {
  await cleanup();
});

async function load(yaml: string, env: Env = {}): Promise<LoadedConfig> {
  const path = join(dir, 'instance.yaml');
  await writeFile(path, yaml);
  return loadConfig({ env: { AGNES_CONFIG: path, ...env }, cwd: dir, connectors: BUILT_IN_CONNECTORS });
}

async function problems(yaml: string, env: Env = {}): Promise<string[]> {
  try {
    await load(yaml, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('the configuration was accepted');
}

describe('resolveString', () => {
  const resolve = (value: string, env: Env) => {
    const found: EnvProblem[] = [];
    return { value: resolveString(value, env, 'a.b', found), problems: found };
  };

  it('substitutes set variables, fallbacks and escapes', () => {
    expect(resolve('${HOST}', { HOST: 'db' })).toEqual({ value: 'db', problems: [] });
    expect(resolve('https://${HOST}:${PORT}/api', { HOST: 'db', PORT: '5432' }).value).toBe(
      'https://db:5432/api',
    );
    expect(resolve('${HOST:-localhost}', {}).value).toBe('localhost');
    expect(resolve('${HOST:-localhost}', { HOST: '' }).value).toBe('localhost');
    expect(resolve('${HOST:-localhost}', { HOST: 'db' }).value).toBe('db');
    expect(resolve('${FROM:-Agnes <no-reply@localhost>}', {}).value).toBe('Agnes <no-reply@localhost>');
    expect(resolve('${EMPTY:-}', {}).value).toBe('');
    expect(resolve('cost $${X} each', { X: 'no' }).value).toBe('cost ${X} each');
    expect(resolve('$$ and $HOME stay', { HOME: '/root' }).value).toBe('$$ and $HOME stay');
  });

  it('does not scan a substituted value again', () => {
    expect(resolve('${A}', { A: '${B}', B: 'second' }).value).toBe('${B}');
    expect(resolve('${A:-${B}}', {}).value).not.toBe('second');
  });

  it('is absent when an optional variable is unset or empty, wherever it appears', () => {
    expect(resolve('${HOST?}', {}).value).toBe(ABSENT);
    expect(resolve('${HOST?}', { HOST: '' }).value).toBe(ABSENT);
    expect(resolve('https://${HOST?}/api', {}).value).toBe(ABSENT);
    expect(resolve('${HOST?}', { HOST: 'db' }).value).toBe('db');
    expect(resolve('${HOST?}', {}).problems).toEqual([]);
  });

  it('reports a required variable that is unset or empty', () => {
    expect(resolve('${HOST}', {}).problems).toEqual([
      { path: 'a.b', message: 'environment variable HOST is not set' },
    ]);
    expect(resolve('x-${HOST}', { HOST: '' }).problems).toEqual([
      { path: 'a.b', message: 'environment variable HOST is not set' },
    ]);
  });

  it.each(['${lower}', '${1ABC}', '${}', '${A-B}', '${A B}', '${?}', '${:-x}'])(
    'refuses the invalid reference %s',
    (value) => {
      const body = value.slice(2, -1);
      expect(resolve(value, { lower: 'x', A: 'y' }).problems).toEqual([
        { path: 'a.b', message: `invalid environment reference "\${${body}}"` },
      ]);
    },
  );
});

describe('resolveTree', () => {
  it('resolves string values only, never keys, and drops absent keys and list items', () => {
    const found: EnvProblem[] = [];
    const tree = {
      '${KEY}': 'kept',
      port: 8000,
      enabled: true,
      nothing: null,
      list: ['${A}', '${GONE?}', 'plain'],
      nested: { gone: '${GONE?}', here: '${A}' },
    };
    expect(resolveTree(tree, { A: 'a', KEY: 'k' }, found)).toEqual({
      '${KEY}': 'kept',
      port: 8000,
      enabled: true,
      nothing: null,
      list: ['a', 'plain'],
      nested: { here: 'a' },
    });
    expect(found).toEqual([]);
  });

  it('names the key path of each problem', () => {
    const found: EnvProblem[] = [];
    resolveTree({ data_sources: { local: [{ name: 'n', path: '${SRC}' }] } }, {}, found);
    expect(found).toEqual([
      { path: 'data_sources.local[0].path', message: 'environment variable SRC is not set' },
    ]);
  });
});

describe('${ENV} in instance.yaml', () => {
  it('fails startup naming the key path and variable of an unset required reference', async () => {
    expect(await problems('server:\n  host: "${BIND_HOST}"\n')).toEqual([
      'config: server.host: environment variable BIND_HOST is not set',
    ]);
    expect(await problems('server:\n  host: "${BIND_HOST}"\n', { BIND_HOST: '' })).toEqual([
      'config: server.host: environment variable BIND_HOST is not set',
    ]);
  });

  it('lets the default apply when an optional reference is unset', async () => {
    const unset = await load('server:\n  host: "${BIND_HOST?}"\n  public_url: "https://${PUBLIC_HOST?}"\n');
    expect(unset.config.server.host).toBe('0.0.0.0');
    expect(unset.config.server.public_url).toBe('http://localhost:8000');

    const set = await load('server:\n  host: "${BIND_HOST?}"\n  public_url: "https://${PUBLIC_HOST?}"\n', {
      BIND_HOST: '127.0.0.1',
      PUBLIC_HOST: 'data.acme.example',
    });
    expect(set.config.server.host).toBe('127.0.0.1');
    expect(set.config.server.public_url).toBe('https://data.acme.example');
  });

  it('turns an optional reference off a feature when the key has no default', async () => {
    const { config } = await load('email:\n  smtp:\n    host: "${MAIL_RELAY?}"\n');
    expect(config.email.smtp.host).toBeUndefined();
  });

  it('drops list items whose optional reference is unset', async () => {
    const { config } = await load('server:\n  cors_origins: ["https://a.example", "${EXTRA_ORIGIN?}"]\n');
    expect(config.server.cors_origins).toEqual(['https://a.example']);
  });

  it('uses the fallback of ${NAME:-fallback}', async () => {
    const yaml = 'instance:\n  name: "${INSTANCE_NAME:-Acme Data}"\n';
    expect((await load(yaml)).config.instance.name).toBe('Acme Data');
    expect((await load(yaml, { INSTANCE_NAME: 'Globex' })).config.instance.name).toBe('Globex');
  });

  it('reads $${ as a literal ${', async () => {
    const { config } = await load('instance:\n  subtitle: "Costs $${AMOUNT} per seat"\n', { AMOUNT: '10' });
    expect(config.instance.subtitle).toBe('Costs ${AMOUNT} per seat');
  });

  it('mixes text and several references in one value', async () => {
    const { config } = await load('instance:\n  copyright: "© ${YEAR} ${ORG} — ${DEPT:-Data}"\n', {
      YEAR: '2026',
      ORG: 'Acme',
    });
    expect(config.instance.copyright).toBe('© 2026 Acme — Data');
  });

  it('does not resolve a reference inside a resolved value', async () => {
    const env = { SUBTITLE: '${INNER}', INNER: 'resolved twice', FROM: 'x ${INNER} $${y}' };
    const { config } = await load('instance:\n  subtitle: "${SUBTITLE}"\n', env);
    expect(config.instance.subtitle).toBe('${INNER}');
    // The same holds for defaults that read the environment.
    const defaults = loadConfig({ env: { SMTP_FROM: env.FROM, INNER: 'resolved twice' }, cwd: dir });
    expect(defaults.config.email.from).toBe('x ${INNER} $${y}');
  });

  it('reports invalid reference names', async () => {
    expect(await problems('instance:\n  name: "${agnes_name}"\n')).toEqual([
      'config: instance.name: invalid environment reference "${agnes_name}"',
    ]);
    expect(await problems('instance:\n  name: "${1NAME}"\n')).toEqual([
      'config: instance.name: invalid environment reference "${1NAME}"',
    ]);
  });

  it('never resolves keys', async () => {
    expect(await problems('"${SECTION}":\n  name: x\n', { SECTION: 'instance' })).toEqual([
      'config: unknown key "${SECTION}"',
    ]);
  });

  it('converts numbers and booleans from environment text', async () => {
    const yaml = [
      'server:',
      '  port: "${APP_PORT}"',
      '  docs: "${APP_DOCS}"',
      'profiler:',
      '  alert_missing_pct: "${MISSING_PCT}"',
      'query:',
      '  memory_limit: "${QUERY_MEMORY}"',
      '  threads: "${QUERY_THREADS:-4}"',
      '',
    ].join('\n');
    const { config } = await load(yaml, {
      APP_PORT: '9001',
      APP_DOCS: 'false',
      MISSING_PCT: '7.5',
      QUERY_MEMORY: '512MB',
    });
    expect(config.server.port).toBe(9001);
    expect(config.server.docs).toBe(false);
    expect(config.profiler.alert_missing_pct).toBe(7.5);
    expect(config.query.memory_limit).toBe(512 * 1024 ** 2);
    expect(config.query.threads).toBe(4);
    expect(config.email.smtp.port).toBe(587);
    expect(loadConfig({ env: { SMTP_PORT: '465' }, cwd: dir }).config.email.smtp.port).toBe(465);
  });

  it('refuses environment text that is not a number or boolean where one is needed', async () => {
    const yaml = 'server:\n  port: "${APP_PORT}"\n  docs: "${APP_DOCS}"\nquery:\n  threads: "${THREADS}"\n';
    expect(await problems(yaml, { APP_PORT: '80 80', APP_DOCS: 'yes', THREADS: '1.5' })).toEqual([
      'config: server.port: must be an integer between 0 and 65535',
      'config: server.docs: must be true or false',
      'config: query.threads: must be an integer between 1 and 64',
    ]);
    expect(await problems('server:\n  docs: "${APP_DOCS}"\n', { APP_DOCS: 'TRUE' })).toEqual([
      'config: server.docs: must be true or false',
    ]);
    expect(
      (await problems('', { SMTP_PORT: 'smtp' })).concat(
        await problems('email:\n  smtp:\n    port: "${P:-x}"\n'),
      ),
    ).toEqual([
      'config: email.smtp.port: must be an integer between 1 and 65535',
      'config: email.smtp.port: must be an integer between 1 and 65535',
    ]);
  });

  it('resolves references inside list entries of local sources', async () => {
    await mkdir(join(dir, 'exports'));
    const yaml = 'data_sources:\n  local:\n    - name: "${SRC_NAME}"\n      path: "${SRC_ROOT}/exports"\n';
    const { config, warnings } = await load(yaml, { SRC_NAME: 'finance', SRC_ROOT: dir });
    expect((config.data_sources.local as unknown[])[0]).toMatchObject({
      name: 'finance',
      path: join(dir, 'exports'),
    });
    expect(warnings).toEqual([]);
  });
});
