import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import type { ConfigCheck, ConfiguredSource, ConnectorConfig } from '../../core/extract/connector.js';
import { parseServiceAccountKey } from './auth.js';
import { PROJECT_PATTERN } from './names.js';

/** `data_sources.bigquery` (11 §2.4). */
const BigQuerySection = Type.Object(
  {
    project: Type.Optional(
      Type.String({
        default: '${BIGQUERY_PROJECT?}',
        pattern: `(^$)|(${PROJECT_PATTERN.source})`,
        errorMessage: 'must be a Google Cloud project id',
      }),
    ),
    location: Type.String({ default: '' }),
    credentials_file: Type.Optional(Type.String({ default: '${GOOGLE_APPLICATION_CREDENTIALS?}' })),
    api_endpoint: Type.String({
      default: 'https://bigquery.googleapis.com',
      pattern: '^https?://[^\\s/?#]+/?$',
      errorMessage: 'must be an origin such as https://bigquery.googleapis.com',
    }),
  },
  { additionalProperties: false, default: {} },
);
type BigQuerySection = Static<typeof BigQuerySection>;

/** What the extractor child and discovery receive: paths resolved; the key's contents stay in its file. */
export interface BigQuerySourceConfig {
  project: string;
  location: string;
  /** Absolute path of the service-account key, or '' when none is configured. */
  credentials_file: string;
  api_endpoint: string;
}

const KEY = 'data_sources.bigquery';

function resolved(config: BigQuerySection, cwd: string): BigQuerySourceConfig {
  return {
    project: config.project ?? '',
    location: config.location,
    credentials_file: config.credentials_file ? resolve(cwd, config.credentials_file) : '',
    api_endpoint: config.api_endpoint.replace(/\/$/, ''),
  };
}

/** Why the key file cannot be used, or null; never quotes the file's contents. */
function credentialsProblem(path: string): string | null {
  if (!path) return 'project is set but no credentials_file (GOOGLE_APPLICATION_CREDENTIALS) is configured';
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return 'credentials_file cannot be read';
  }
  try {
    parseServiceAccountKey(text);
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : 'credentials_file is not a service-account key';
  }
}

export const bigQueryConfig: ConnectorConfig = {
  key: 'bigquery',
  schema: BigQuerySection,
  sources(section: unknown, cwd: string): ConfiguredSource[] {
    const config = section as BigQuerySection;
    if (!config.project) return [];
    return [{ name: 'bigquery', type: 'bigquery', config: resolved(config, cwd), key: KEY }];
  },
  check(section: unknown, cwd: string): ConfigCheck {
    const config = section as BigQuerySection;
    if (!config.project) return { problems: [], warnings: [] };
    // Fail closed: a project without usable credentials would otherwise fail on every sync.
    const problem = credentialsProblem(resolved(config, cwd).credentials_file);
    const warnings = config.api_endpoint.startsWith('http://')
      ? [`config: ${KEY}.api_endpoint: plain http sends the access token unencrypted`]
      : [];
    return { problems: problem ? [`config: ${KEY}.credentials_file: ${problem}`] : [], warnings };
  },
};
