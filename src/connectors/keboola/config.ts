import { type Static, Type } from '@sinclair/typebox';
import type { ConfigCheck, ConfiguredSource, ConnectorConfig } from '../../core/extract/connector.js';
import { ENV_NAME_PATTERN } from '../../core/ids.js';

/** `data_sources.keboola` (11 §2.4). */
const KeboolaSection = Type.Object(
  {
    stack_url: Type.Optional(
      Type.String({
        default: '${KEBOOLA_STACK_URL?}',
        pattern: '^https?://[^\\s/?#]+/?$',
        errorMessage: 'must be the stack origin such as https://connection.keboola.com',
      }),
    ),
    token_env: Type.String({
      default: 'KEBOOLA_STORAGE_TOKEN',
      pattern: ENV_NAME_PATTERN.source,
      errorMessage: 'must be an environment variable name',
    }),
    parallel_tables: Type.Integer({ default: 2, minimum: 1, maximum: 16 }),
    export_timeout_seconds: Type.Integer({ default: 1800, minimum: 1 }),
    incremental_lag_seconds: Type.Integer({ default: 60, minimum: 0 }),
  },
  { additionalProperties: false, default: {} },
);
type KeboolaSection = Static<typeof KeboolaSection>;

/** What the extractor child and discovery receive: the section with a set stack URL; never the token. */
export type KeboolaSourceConfig = Required<KeboolaSection>;

const KEY = 'data_sources.keboola';

export const keboolaConfig: ConnectorConfig = {
  key: 'keboola',
  schema: KeboolaSection,
  sources(section: unknown, _cwd: string, env: NodeJS.ProcessEnv): ConfiguredSource[] {
    const config = section as KeboolaSection;
    if (!config.stack_url || !env[config.token_env]) return [];
    const resolved: KeboolaSourceConfig = { ...config, stack_url: config.stack_url.replace(/\/$/, '') };
    return [{ name: 'keboola', type: 'keboola', config: resolved, key: KEY }];
  },
  check(section: unknown, _cwd: string, env: NodeJS.ProcessEnv): ConfigCheck {
    const config = section as KeboolaSection;
    // Fail closed: a configured stack without its token would otherwise silently have no source.
    const problems =
      config.stack_url && !env[config.token_env]
        ? [`config: ${KEY}.token_env: stack_url is set but environment variable ${config.token_env} is empty`]
        : [];
    const warnings =
      config.stack_url?.startsWith('http://') === true
        ? [`config: ${KEY}.stack_url: plain http sends the Storage API token unencrypted`]
        : [];
    return { problems, warnings };
  },
};
