import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2019, type ValidateFunction } from 'ajv/dist/2019.js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { BUILT_IN_CONNECTORS } from '../../src/connectors/index.js';
import { loadConfig } from '../../src/core/config/index.js';
import { agnesProgram } from '../../src/operator/program.js';
import { serviceEndpoint } from '../../src/operator/service-client.js';

/**
 * The Docker files (13 §1): compose.yaml against the Compose Specification schema for every
 * profile and through Compose's own `config` for every command of the README's "Run with Docker",
 * the section's rules, docker/instance.yaml through the app's configuration loader, and the
 * Dockerfile's shape. Where a Docker daemon with the compose plugin answers, `docker compose
 * config` and `docker build` run too; elsewhere one test says why they did not.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

interface Healthcheck {
  test?: string[];
  disable?: boolean;
}
interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  entrypoint?: string[];
  profiles?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  restart?: string;
  healthcheck?: Healthcheck;
  secrets?: string[];
  depends_on?: Record<string, { condition: string }>;
}
interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
  secrets?: Record<string, { file: string }>;
}
/** What `docker-compose config` prints: interpolated, with ports in their long form. */
interface ResolvedService extends Omit<Service, 'ports'> {
  ports?: { published: number; target: number }[];
}
interface ResolvedFile {
  services: Record<string, ResolvedService>;
}

// Compose resolves YAML merge keys (`<<: *anchor`), as YAML 1.1 did.
const COMPOSE = parse(read('compose.yaml'), { merge: true }) as ComposeFile;
const DEFAULT = '(default)';
const PROFILES = [DEFAULT, 'full', 'extract', 'postgres'];
const SECRET_NAME = /TOKEN|SECRET|PASSWORD|KEY|SALT/;
const JWT_SECRET = 'compose-test-jwt-secret-0123456789abcdef';

/** The services one `--profile` brings up: those without profiles, and its own. */
function servicesOf(profile: string, file: ComposeFile = COMPOSE): string[] {
  return Object.entries(file.services)
    .filter(([, s]) => !s.profiles || s.profiles.includes(profile))
    .map(([name]) => name);
}

/** The ones that run this repository's image, i.e. `agnes`. */
const AGNES_SERVICES = Object.entries(COMPOSE.services)
  .filter(([, s]) => s.build !== undefined)
  .map(([name]) => name);

function service(name: string): Service {
  const found = COMPOSE.services[name];
  if (!found) throw new Error(`compose.yaml has no service ${name}`);
  return found;
}

/** The compose file as one profile sees it. */
function restrictedTo(profile: string): ComposeFile {
  const names = new Set(servicesOf(profile));
  return {
    ...COMPOSE,
    services: Object.fromEntries(Object.entries(COMPOSE.services).filter(([name]) => names.has(name))),
  };
}

/**
 * The schema docker-compose validates with. It is written for draft 2019-09 but labels its parts
 * with draft-04 `id`s, which Ajv refuses; every `$ref` in it is a JSON pointer, so the labels are
 * dropped. Compose's own formats (durations, ports) apply to interpolated values, which
 * `docker-compose config` checks below.
 */
function composeValidator(): ValidateFunction {
  const ajv = new Ajv2019({ allErrors: true, strict: false, validateSchema: false, validateFormats: false });
  ajv.removeKeyword('id');
  return ajv.compile(JSON.parse(readFileSync(inject('composeSchemaPath'), 'utf8')));
}

/** A `docker compose …` line of the README's "Run with Docker" section. */
interface ReadmeCommand {
  line: string;
  env: Record<string, string>;
  profiles: string[];
  subcommand: string;
  services: string[];
}

function readmeCommands(): ReadmeCommand[] {
  const readme = read('README.md');
  const start = readme.indexOf('\n## Run with Docker\n');
  if (start < 0) throw new Error('README.md has no "Run with Docker" section');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
  return blocks
    .flatMap((block) => block.split('\n'))
    .map((line) => line.trim())
    .filter((line) => /(^|\| )([A-Z_]+=\S+ )*docker compose /.test(line))
    .map(parseCommand);
}

function parseCommand(line: string): ReadmeCommand {
  const invocation = (line.split('|').find((part) => part.includes('docker compose')) ?? '').split('>')[0]!;
  const words = invocation.trim().split(/\s+/);
  const env: Record<string, string> = {};
  while (/^[A-Z_][A-Z0-9_]*=/.test(words[0] ?? '')) {
    const [name, ...value] = (words.shift() as string).split('=');
    env[name as string] = value.join('=');
  }
  if (words.splice(0, 2).join(' ') !== 'docker compose')
    throw new Error(`not a docker compose command: ${line}`);
  const profiles: string[] = [];
  while (words[0] === '--profile') profiles.push(words.splice(0, 2)[1] as string);
  const subcommand = words.shift() ?? '';
  const operands = words.filter((word) => !word.startsWith('-'));
  const services = subcommand === 'up' ? operands : subcommand === 'run' ? operands.slice(0, 1) : [];
  return { line, env, profiles, subcommand, services };
}

const COMMANDS = readmeCommands();

/** Every distinct `--profile` selection and environment the README's commands use. */
function commandSelections(): ReadmeCommand[] {
  const seen = new Map<string, ReadmeCommand>();
  for (const command of COMMANDS) seen.set(JSON.stringify([command.profiles, command.env]), command);
  return [...seen.values()];
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Where the docker client finds its daemon (DOCKER_HOST, DOCKER_CONTEXT, …). */
function dockerClientEnv(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      (entry): entry is [string, string] => entry[0].startsWith('DOCKER_') && entry[1] !== undefined,
    ),
  );
}

function run(command: string, args: string[], env: Record<string, string>, timeoutMs = 60_000): Run {
  const result = spawnSync(command, args, {
    cwd: ROOT,
    encoding: 'utf8',
    // Only what the commands need: the shell's own variables must not change what Compose resolves.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...dockerClientEnv(), ...env },
    timeout: timeoutMs,
  });
  return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

let scratch: string;
/** The `.env` of the README's first line, and one without JWT_SECRET_KEY. */
let envFile: string;
let emptyEnvFile: string;

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'agnes-compose-'));
  envFile = join(scratch, 'env');
  emptyEnvFile = join(scratch, 'empty-env');
  writeFileSync(envFile, `JWT_SECRET_KEY=${JWT_SECRET}\n`);
  writeFileSync(emptyEnvFile, '');
});

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

/** Debian's docker-compose (v1), whose `config` interpolates and validates without a daemon. */
function dockerComposeConfig(command: Pick<ReadmeCommand, 'profiles' | 'env'>, file = envFile): Run {
  const profiles = command.profiles.flatMap((profile) => ['--profile', profile]);
  return run(inject('dockerComposePath'), ['--env-file', file, ...profiles, 'config'], command.env);
}

function resolved(env: Record<string, string> = {}): ResolvedFile {
  const outcome = dockerComposeConfig({ profiles: [], env });
  expect(outcome.stderr).toBe('');
  expect(outcome.status).toBe(0);
  return parse(outcome.stdout) as ResolvedFile;
}

describe('compose.yaml against the Compose Specification schema', () => {
  it('has the profiles of 13 §1 and the services of each', () => {
    const declared = new Set(Object.values(COMPOSE.services).flatMap((s) => s.profiles ?? []));
    expect([DEFAULT, ...declared].sort()).toEqual([...PROFILES].sort());
    expect(servicesOf(DEFAULT)).toEqual(['app', 'scheduler']);
    expect(servicesOf('full')).toEqual([
      'app',
      'scheduler',
      'telegram-bot',
      'ws-gateway',
      'corporate-memory',
      'session-collector',
    ]);
    expect(servicesOf('extract')).toEqual(['app', 'scheduler', 'extract']);
    expect(servicesOf('postgres')).toEqual(['app', 'scheduler', 'postgres']);
  });

  it.each(PROFILES)('profile %s: valid, and every dependency is a service of the profile', (profile) => {
    const validate = composeValidator();
    const file = restrictedTo(profile);
    expect(validate(file), JSON.stringify(validate.errors, null, 2)).toBe(true);
    for (const [name, s] of Object.entries(file.services))
      for (const dependency of Object.keys(s.depends_on ?? {}))
        expect(Object.keys(file.services), `${name} depends on ${dependency}`).toContain(dependency);
  });

  it('is a real check: an unknown key or a wrong type is refused', () => {
    const validate = composeValidator();
    const broken = structuredClone(COMPOSE) as unknown as {
      services: Record<string, Record<string, unknown>>;
    };
    broken.services.app!.restarts = 'always';
    broken.services.scheduler!.healthcheck = { test: 42 };
    expect(validate(broken)).toBe(false);
    expect(validate.errors?.map((e) => e.instancePath)).toEqual(
      expect.arrayContaining(['/services/app', '/services/scheduler/healthcheck/test']),
    );
  });
});

describe('the rules of 13 §1', () => {
  it('runs an agnes command in each agnes service, with the image built here', () => {
    const commands = agnesProgram().commands.map((c) => c.name());
    expect(AGNES_SERVICES.sort()).toEqual(
      [
        'app',
        'corporate-memory',
        'extract',
        'scheduler',
        'session-collector',
        'telegram-bot',
        'ws-gateway',
      ].sort(),
    );
    for (const name of AGNES_SERVICES) {
      const s = service(name);
      expect(s.image, name).toBe(service('app').image);
      const argv = [...(s.entrypoint ?? []), ...(s.command ?? [])];
      const agnesCommand = s.entrypoint ? argv[2] : argv[0];
      expect(commands, name).toContain(agnesCommand);
      if (name !== 'app') expect(agnesCommand, name).toBe(name);
    }
    expect(service('app').command).toEqual(['serve']);
    expect(service('extract').entrypoint).toEqual([
      'node',
      `/app/${JSON.parse(read('package.json')).bin.agnes}`,
      'extract',
    ]);
  });

  it('passes DATABASE_URL through to every agnes service and mounts the one data volume at /data', () => {
    expect(Object.keys(COMPOSE.volumes ?? {})).toContain('data');
    for (const name of AGNES_SERVICES) {
      const s = service(name);
      expect(s.environment?.DATABASE_URL, name).toBe('${DATABASE_URL:-}');
      expect(s.volumes, name).toContain('data:/data');
    }
  });

  it('holds no secret: each is an environment reference without a default, or a token file', () => {
    for (const [name, s] of Object.entries(COMPOSE.services)) {
      for (const [key, value] of Object.entries(s.environment ?? {})) {
        if (!SECRET_NAME.test(key) || key === 'AGNES_TOKEN_FILE') continue;
        expect(value, `${name}.${key}`).toMatch(/^\$\{[A-Z_][A-Z0-9_]*(:-|:\?[^}]*)?\}$/);
      }
      if (s.environment?.AGNES_TOKEN_FILE) {
        const secret = s.environment.AGNES_TOKEN_FILE.replace('/run/secrets/', '');
        expect(s.secrets, name).toEqual([secret]);
        expect(COMPOSE.secrets?.[secret]?.file, name).toBe(`./secrets/${secret}`);
      }
    }
    expect(service('app').environment?.JWT_SECRET_KEY).toMatch(/^\$\{JWT_SECRET_KEY:\?/);
    expect(service('postgres').environment?.POSTGRES_PASSWORD).toBe('${POSTGRES_PASSWORD:-}');
  });

  it('gives each service that calls the app its URL and a token file', () => {
    for (const name of ['scheduler', 'telegram-bot', 'ws-gateway', 'corporate-memory']) {
      const env = service(name).environment ?? {};
      expect(serviceEndpoint(env)).toEqual({
        apiUrl: 'http://app:8000',
        tokenFile: `/run/secrets/${name === 'telegram-bot' ? 'telegram' : name}-token`,
      });
      expect(service(name).depends_on, name).toEqual({ app: { condition: 'service_healthy' } });
    }
  });

  it('runs extract once: no restart policy, the only agnes service without one', () => {
    expect(service('extract').restart).toBeUndefined();
    for (const name of AGNES_SERVICES.filter((n) => n !== 'extract'))
      expect(service(name).restart, name).toBe('unless-stopped');
  });

  it('gives postgres 17 a named volume of its own and a health check', () => {
    const postgres = service('postgres');
    expect(postgres.image).toBe('postgres:17');
    expect(postgres.volumes).toEqual(['postgres-data:/var/lib/postgresql/data']);
    expect(Object.keys(COMPOSE.volumes ?? {})).toContain('postgres-data');
    for (const name of AGNES_SERVICES)
      expect(
        service(name).volumes?.some((v) => v.startsWith('postgres-data:')),
        name,
      ).toBe(false);
    expect(postgres.healthcheck?.test?.slice(0, 2)).toEqual(['CMD', 'pg_isready']);
  });

  it('checks health where a service listens, and turns the image check off where none does', () => {
    expect(service('app').healthcheck?.test).toEqual([
      'CMD',
      'node',
      '/app/docker/healthcheck.mjs',
      'http://127.0.0.1:8000/api/health',
    ]);
    for (const name of ['scheduler', 'corporate-memory', 'session-collector', 'extract'])
      expect(service(name).healthcheck, name).toEqual({ disable: true });
    for (const name of ['telegram-bot', 'ws-gateway'])
      expect(service(name).healthcheck?.test?.slice(0, 3), name).toEqual([
        'CMD',
        'node',
        '/app/docker/healthcheck.mjs',
      ]);
  });
});

describe('docker-compose config (Compose itself) on the README commands', () => {
  it('the README names every profile, and only services of the profiles it selects', () => {
    expect(COMMANDS.length).toBeGreaterThan(0);
    const selected = new Set(COMMANDS.flatMap((c) => (c.profiles.length ? c.profiles : [DEFAULT])));
    expect([...selected].sort()).toEqual([...PROFILES].sort());
    for (const command of COMMANDS) {
      const active = new Set([DEFAULT, ...command.profiles].flatMap((p) => servicesOf(p)));
      for (const name of command.services) expect([...active], command.line).toContain(name);
    }
    expect(COMMANDS.map((c) => c.line)).toEqual(
      expect.arrayContaining([
        'docker compose up -d',
        'docker compose --profile full up -d',
        'docker compose --profile extract run --rm extract --source finance_files',
        'docker compose --profile postgres up -d',
      ]),
    );
  });

  it('accepts each of them with the .env of the README', () => {
    for (const command of commandSelections()) {
      const outcome = dockerComposeConfig(command);
      expect(outcome.stderr, command.line).toBe('');
      expect(outcome.status, command.line).toBe(0);
    }
  });

  it('refuses to go on without JWT_SECRET_KEY, naming it', () => {
    const outcome = dockerComposeConfig({ profiles: [], env: {} }, emptyEnvFile);
    expect(outcome.status).not.toBe(0);
    expect(outcome.stderr).toContain('set JWT_SECRET_KEY (at least 32 characters)');
  });

  it('hands DATABASE_URL to every agnes service, and nothing when it is unset', () => {
    const url = 'postgres://agnes:pw@postgres:5432/agnes';
    const withUrl = resolved({ DATABASE_URL: url });
    const without = resolved();
    for (const name of AGNES_SERVICES) {
      expect(withUrl.services[name]?.environment?.DATABASE_URL, name).toBe(url);
      expect(without.services[name]?.environment?.DATABASE_URL, name).toBe('');
    }
    expect(without.services.app?.environment?.JWT_SECRET_KEY).toBe(JWT_SECRET);
    expect(without.services.scheduler?.environment?.JWT_SECRET_KEY).toBeUndefined();
  });
});

describe('docker/instance.yaml, as each container loads it', () => {
  it("loads with each agnes service's environment and fits the compose services", () => {
    const file = resolved();
    const configOf = (name: string) =>
      loadConfig({
        env: file.services[name]?.environment ?? {},
        cwd: ROOT,
        configPath: 'docker/instance.yaml',
        connectors: BUILT_IN_CONNECTORS,
      });
    for (const name of AGNES_SERVICES) expect(() => configOf(name), name).not.toThrow();
    const { config, dataDir } = configOf('app');
    expect(config.scheduler.in_process).toBe(false);
    expect(config.ws_gateway.in_process).toBe(false);
    expect(dataDir).toBe(join(ROOT, 'data'));
    expect(file.services.app?.ports).toEqual([{ published: 8000, target: config.server.port }]);

    const telegram = new URL(config.telegram.dispatch_url);
    expect(servicesOf('full')).toContain(telegram.hostname);
    expect(Number(telegram.port)).toBe(config.telegram.listen_port);
    expect(config.telegram.listen_host).toBe('0.0.0.0');
    expect(service('telegram-bot').healthcheck?.test?.[3]).toBe(
      `http://127.0.0.1:${config.telegram.listen_port}/health`,
    );

    const gateway = new URL(config.ws_gateway.dispatch_url);
    expect(servicesOf('full')).toContain(gateway.hostname);
    expect(Number(gateway.port)).toBe(config.ws_gateway.dispatch_port);
    expect(config.ws_gateway.dispatch_host).toBe('0.0.0.0');
    expect(service('ws-gateway').healthcheck?.test?.[3]).toBe(
      `http://127.0.0.1:${config.ws_gateway.dispatch_port}/health`,
    );
    expect(file.services['ws-gateway']?.ports).toEqual([{ published: 8765, target: config.ws_gateway.port }]);
  });

  it('takes the public URLs from the environment when they are given', () => {
    const { config } = loadConfig({
      env: {
        AGNES_PUBLIC_URL: 'https://data.acme.example',
        AGNES_WS_PUBLIC_URL: 'wss://data.acme.example/ws',
      },
      cwd: ROOT,
      configPath: 'docker/instance.yaml',
      connectors: BUILT_IN_CONNECTORS,
    });
    expect(config.server.public_url).toBe('https://data.acme.example');
    expect(config.ws_gateway.public_url).toBe('wss://data.acme.example/ws');
  });
});

/** Why Docker itself cannot run the checks here, or null when it can. */
function dockerUnavailable(): string | null {
  const version = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8', timeout: 30_000 });
  if (version.error) return 'docker is not on PATH';
  if (version.status !== 0) return 'docker has no compose plugin';
  const info = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (info.status !== 0) return 'no Docker daemon answers';
  return null;
}

describe('Docker', () => {
  const unavailable = dockerUnavailable();

  if (unavailable === null) {
    it('docker compose config accepts each README command', () => {
      for (const command of commandSelections()) {
        const profiles = command.profiles.flatMap((profile) => ['--profile', profile]);
        const outcome = run(
          'docker',
          ['compose', '--env-file', envFile, ...profiles, 'config', '--quiet'],
          command.env,
        );
        expect(outcome.stderr, command.line).toBe('');
        expect(outcome.status, command.line).toBe(0);
      }
    });

    it('docker build builds the image, which runs any agnes command', { timeout: 1_800_000 }, () => {
      const build = run('docker', ['build', '--tag', 'agnes:compose-test', '.'], {}, 1_800_000);
      expect(build.status, build.stderr.slice(-4000)).toBe(0);
      const version = run('docker', ['run', '--rm', 'agnes:compose-test', 'version'], {});
      expect(version.status, version.stderr).toBe(0);
      expect(version.stdout).toContain(`agnes-analyst ${JSON.parse(read('package.json')).version}`);
    });
  } else {
    it(`Docker cannot run here (${unavailable}): the Compose schema and docker-compose config above stand in for every profile`, () => {
      const validate = composeValidator();
      for (const profile of PROFILES) expect(validate(restrictedTo(profile)), profile).toBe(true);
      expect(dockerComposeConfig({ profiles: PROFILES.slice(1), env: {} }).status).toBe(0);
    });
  }
});
