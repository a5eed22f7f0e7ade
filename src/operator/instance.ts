import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { type Logger, pino } from 'pino';
import { BUILT_IN_CONNECTORS } from '../connectors/index.js';
import {
  type InstanceConfig,
  type JwtSecrets,
  type LoadedConfig,
  loadConfig,
  resolveJwtSecrets,
} from '../core/config/index.js';
import { configuredSources, type SourceDefinition } from '../core/config/sources.js';
import { type Connector, ConnectorRegistry } from '../core/extract/connector.js';
import { AGNES_BIN } from '../core/package-info.js';
import { notificationServices } from '../runtime/notifications.js';
import { createRuntime, type Runtime, type RuntimeOptions } from '../runtime/runtime.js';
import { schedulerServices } from '../runtime/scheduler.js';
import { loggerOptions } from '../server/logger.js';
import { wsGatewayServices } from '../server/ws-gateway.js';

/** `.env` in the working directory fills variables the environment does not already set. */
export function environment(cwd: string = process.cwd()): NodeJS.ProcessEnv {
  const file = join(cwd, '.env');
  if (!existsSync(file)) return process.env;
  const fromFile = parseEnv(readFileSync(file, 'utf8'));
  for (const [key, value] of Object.entries(fromFile)) {
    if (process.env[key] === undefined) process.env[key] = value;
  }
  return process.env;
}

export interface InstanceOptions {
  dataDir?: string;
  defaultDataDir?: string;
  /** `agnes demo`: may generate the JWT secret. */
  demo?: boolean;
  /** Logs to stderr, keeping stdout for the command's own output. */
  logToStderr?: boolean;
  /** Writes each log line before going on, so a service's last lines survive its exit. */
  syncLogs?: boolean;
  /** The connectors to run; the built-in ones unless an embedding adds its own. */
  connectors?: readonly Connector[];
}

export interface Instance {
  loaded: LoadedConfig;
  connectors: ConnectorRegistry;
  env: NodeJS.ProcessEnv;
  log: Logger;
}

export function loadInstance(options: InstanceOptions = {}): Instance {
  const env = environment();
  const connectors = options.connectors ?? BUILT_IN_CONNECTORS;
  const loaded = loadConfig({
    env,
    dataDir: options.dataDir,
    defaultDataDir: options.defaultDataDir,
    connectors,
  });
  const log = pino(
    loggerOptions(loaded.config.server.log_level),
    pino.destination({ dest: options.logToStderr ? 2 : 1, sync: options.syncLogs ?? false }),
  );
  for (const warning of loaded.warnings) log.warn({ config: true }, warning);
  if (!loaded.configPath) log.info('no instance.yaml found; every key takes its default');
  return { loaded, connectors: new ConnectorRegistry(connectors), env, log };
}

export function secretsFor(instance: Instance, demo = false): JwtSecrets {
  return resolveJwtSecrets(instance.env, { dataDir: instance.loaded.dataDir, demo });
}

/** Opens the runtime for an operator command or the server. */
export function openRuntime(
  instance: Instance,
  secrets: JwtSecrets,
  extraSources: readonly SourceDefinition[] = [],
  config: InstanceConfig = instance.loaded.config,
  services?: RuntimeOptions['services'],
): Promise<Runtime> {
  return createRuntime({
    config,
    dataDir: instance.loaded.dataDir,
    secrets,
    connectors: instance.connectors,
    sources: [
      ...configuredSources(config, instance.connectors.all, process.cwd(), instance.env),
      ...extraSources,
    ],
    extractor: { command: process.execPath, args: [AGNES_BIN, 'extract', '--stdin-config'] },
    log: instance.log,
    env: instance.env,
    ...(services ? { services } : {}),
  });
}

/**
 * The runtime of `agnes serve` and `agnes demo`: with the services that run beside the app (the
 * scheduler, the notification dispatcher).
 */
export function openServingRuntime(
  instance: Instance,
  secrets: JwtSecrets,
  extraSources: readonly SourceDefinition[] = [],
): Promise<Runtime> {
  return openRuntime(instance, secrets, extraSources, instance.loaded.config, (runtime) => [
    ...schedulerServices(runtime),
    ...notificationServices(runtime),
    ...wsGatewayServices(runtime),
  ]);
}

/** Operator commands that do not sign tokens still open the state store; they need no secret. */
export const NO_SECRETS: JwtSecrets = { current: '', previous: null };
