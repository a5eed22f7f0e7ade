import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BUILT_IN_CONNECTORS } from '../../../src/connectors/index.js';
import { jiraConfig, jiraSettings } from '../../../src/connectors/jira/config.js';
import { ConfigError, loadConfig } from '../../../src/core/config/index.js';
import type { Env } from '../../../src/core/config/resolve-env.js';
import { configuredSources, connectorSection } from '../../../src/core/config/sources.js';
import { tempDir } from '../../support/extracts.js';

/** `jira:` of instance.yaml (11 §2.5): a top-level section the Jira connector owns. */

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ path: dir, cleanup } = await tempDir('agnes-jira-config-'));
});
afterEach(async () => cleanup());

async function load(yaml: string, env: Env = {}) {
  const path = join(dir, 'instance.yaml');
  await writeFile(path, yaml);
  const loaded = loadConfig({
    env: { AGNES_CONFIG: path, ...env },
    cwd: dir,
    connectors: BUILT_IN_CONNECTORS,
  });
  return { loaded, settings: jiraSettings(connectorSection(loaded.config, jiraConfig)) };
}

async function problems(yaml: string, env: Env = {}): Promise<string[]> {
  try {
    await load(yaml, env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('the configuration loaded');
}

describe('jira configuration', () => {
  it('is not configured by default, and defines no source', async () => {
    const { loaded, settings } = await load('');
    expect(settings.account).toBeNull();
    expect(settings.webhookSecret).toBeNull();
    expect(settings).toMatchObject({
      maxEventBytes: 5 * 1024 ** 2,
      maxAttachmentBytes: 50 * 1024 ** 2,
      eventRetentionDays: 30,
      rebuildDebounceMs: 2000,
      retryBaseMs: 1000,
      consistency: { maxAgeDays: 30, maxBackfill: 200 },
    });
    expect(Object.keys(settings.transform.customFields)).toContain('request_type');
    expect(configuredSources(loaded.config, BUILT_IN_CONNECTORS, dir, {}).map((s) => s.name)).not.toContain(
      'jira',
    );
  });

  it('reads the account and secret from the environment, base_url from the domain, and keeps credentials out of the source', async () => {
    const env = {
      JIRA_DOMAIN: 'acme.atlassian.net',
      JIRA_EMAIL: 'bot@acme.example',
      JIRA_API_TOKEN: 'token-value-123',
      JIRA_WEBHOOK_SECRET: 'secret-value-456',
      JIRA_CLOUD_ID: 'cloud 1',
      JIRA_SLA_EMAIL: 'sla@acme.example',
      JIRA_SLA_API_TOKEN: 'sla-token-789',
    };
    const { loaded, settings } = await load('jira:\n  project: SUP\n', env);
    expect(settings.account).toEqual({
      baseUrl: 'https://acme.atlassian.net',
      email: 'bot@acme.example',
      apiToken: 'token-value-123',
      sla: {
        baseUrl: 'https://api.atlassian.com/ex/jira/cloud%201',
        email: 'sla@acme.example',
        apiToken: 'sla-token-789',
      },
    });
    expect(settings.webhookSecret).toBe('secret-value-456');
    const [source] = configuredSources(loaded.config, BUILT_IN_CONNECTORS, dir, env).filter(
      (s) => s.type === 'jira',
    );
    expect(source?.name).toBe('jira');
    // The extractor child gets the source's config on stdin: no credential in it.
    expect(JSON.stringify(source?.config)).not.toMatch(/token-value|secret-value|sla-token/);
  });

  it('replaces the default custom-field mapping with a configured one', async () => {
    const { settings } = await load(
      'jira:\n  custom_fields:\n    severity: { field: customfield_1, kind: option }\n',
    );
    expect(settings.transform.customFields).toEqual({ severity: { field: 'customfield_1', kind: 'option' } });
  });

  it('names the key and the allowed kinds of a bad custom field; refuses columns the issues table has', async () => {
    expect(
      await problems('jira:\n  custom_fields:\n    severity: { field: customfield_1, kind: enum }\n'),
    ).toContain(
      'config: jira.custom_fields.severity.kind: must be one of string, option, option_list, json, user_email_list, adf_text, rating, jsm_request_type, jsm_request_status',
    );
    expect(
      await problems('jira:\n  custom_fields:\n    summary: { field: customfield_1, kind: string }\n'),
    ).toContain('config: jira.custom_fields.summary: is a column of the issues table already');
    const badName = await problems(
      'jira:\n  custom_fields:\n    "a b": { field: customfield_1, kind: string }\n',
    );
    expect(badName.join('\n')).toContain('jira.custom_fields.a b');
    expect(await problems('jira:\n  sla_schedule: every 0m\n')).toEqual([
      expect.stringContaining('config: jira.sla_schedule:'),
    ]);
    expect(await problems('jira:\n  unknown_key: 1\n')).toEqual([
      expect.stringContaining('unknown key "jira.unknown_key"'),
    ]);
  });
});
