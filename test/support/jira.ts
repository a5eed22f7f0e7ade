import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { FakeJira } from '../fakes/jira.js';

/** Jira test plumbing: the `jira:` section pointing at a fake, and what lies in `DATA_DIR/jira/`. */

export const WEBHOOK_SECRET = 'jira-webhook-secret-for-tests-0123456789';

/** `jira:` of instance.yaml for a fake Jira (the SLA overlay too when `sla` is set). */
export function jiraSection(
  fake: FakeJira,
  options: { secret?: string | null; sla?: boolean; extra?: Record<string, unknown> } = {},
): Record<string, unknown> {
  const secret = options.secret === undefined ? WEBHOOK_SECRET : options.secret;
  return {
    base_url: fake.url,
    email: fake.account.email,
    api_token: fake.account.token,
    ...(secret === null ? {} : { webhook_secret: secret }),
    rebuild_debounce_ms: 50,
    retry_base_ms: 20,
    ...(options.sla
      ? {
          sla: {
            base_url: `${fake.slaBaseUrl}`,
            cloud_id: 'cloud-1',
            email: fake.slaAccount.email,
            api_token: fake.slaAccount.token,
          },
        }
      : {}),
    ...options.extra,
  };
}

/** File names in `DATA_DIR/jira/<sub>` (empty when the directory does not exist). */
export async function jiraFiles(dataDir: string, sub: string): Promise<string[]> {
  return (await readdir(join(dataDir, 'jira', sub)).catch(() => [] as string[])).sort();
}
