import { type StaticDecode, Type } from '@sinclair/typebox';
import { bool, envStr, int, oneOf, schedule, section, size, str } from '../../core/config/schema.js';
import type { ConfigCheck, ConfiguredSource, ConnectorConfig } from '../../core/extract/connector.js';
import { CUSTOM_FIELD_KINDS, type CustomField, DEFAULT_CUSTOM_FIELDS, ISSUE_BASE_COLUMNS } from './tables.js';

/** `jira:` (11 §2.5), a top-level section of `instance.yaml`. */
const JiraSection = section({
  domain: envStr('${JIRA_DOMAIN?}'),
  base_url: Type.Optional(
    Type.String({ format: 'http-url', errorMessage: 'must be an absolute http(s) URL' }),
  ),
  email: envStr('${JIRA_EMAIL?}'),
  api_token: envStr('${JIRA_API_TOKEN?}'),
  webhook_secret: envStr('${JIRA_WEBHOOK_SECRET?}'),
  project: str('', { pattern: '^[A-Za-z0-9_]{0,100}$', errorMessage: 'must be a project key' }),
  sla: section({
    base_url: str('https://api.atlassian.com/ex/jira/{cloud_id}'),
    cloud_id: envStr('${JIRA_CLOUD_ID?}'),
    email: envStr('${JIRA_SLA_EMAIL?}'),
    api_token: envStr('${JIRA_SLA_API_TOKEN?}'),
    fields: section({
      first_response: str('customfield_10328', { pattern: '^[A-Za-z0-9_]{1,100}$' }),
      time_to_resolution: str('customfield_10161', { pattern: '^[A-Za-z0-9_]{1,100}$' }),
    }),
  }),
  // No schema default: TypeBox would merge a default map into a configured one, which must
  // replace it (07 §5.7); `jiraSettings` supplies the default mapping.
  custom_fields: Type.Optional(
    Type.Record(
      Type.String({ pattern: '^[a-z_][a-z0-9_]{0,62}$' }),
      Type.Object(
        {
          field: Type.String({
            pattern: '^[A-Za-z0-9_.-]{1,100}$',
            errorMessage: 'must be a Jira field id such as customfield_10004',
          }),
          kind: oneOf(CUSTOM_FIELD_KINDS),
        },
        { additionalProperties: false },
      ),
    ),
  ),
  download_attachments: bool(false),
  max_attachment_bytes: size('50MB'),
  max_event_bytes: size('5MB'),
  event_retention_days: int(30, 1),
  rebuild_debounce_ms: int(2000, 0),
  retry_base_ms: int(1000, 1),
  consistency: section({ max_age_days: int(30, 1, 365), max_backfill: int(200, 0) }),
  sla_schedule: schedule('every 15m'),
  consistency_schedule: schedule('every 6h'),
});
export type JiraSection = StaticDecode<typeof JiraSection>;

/** The SLA overlay (07 §5.2): its own account on its own base URL. */
export interface SlaAccount {
  baseUrl: string;
  email: string;
  apiToken: string;
}

/** The resolved REST account, or null while Jira is not configured. */
export interface JiraAccount {
  baseUrl: string;
  email: string;
  apiToken: string;
  sla: SlaAccount | null;
}

/** What the transform needs (the extractor child gets this: no credentials). */
export interface TransformSettings {
  baseUrl: string;
  customFields: Record<string, CustomField>;
  slaFields: { first_response: string; time_to_resolution: string };
}

/** Everything the app-side part reads from the section, with the URLs resolved. */
export interface JiraSettings {
  account: JiraAccount | null;
  webhookSecret: string | null;
  project: string;
  transform: TransformSettings;
  downloadAttachments: boolean;
  maxAttachmentBytes: number;
  maxEventBytes: number;
  eventRetentionDays: number;
  rebuildDebounceMs: number;
  retryBaseMs: number;
  consistency: { maxAgeDays: number; maxBackfill: number };
  slaSchedule: string;
  consistencySchedule: string;
}

const KEY = 'jira';

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

function baseUrlOf(section: JiraSection): string | null {
  if (section.base_url) return trimSlash(section.base_url);
  return section.domain ? `https://${section.domain}` : null;
}

/** The section as the app uses it; `webhook_secret` counts only when non-empty (fail closed, 03 §20). */
export function jiraSettings(raw: unknown): JiraSettings {
  const section = raw as JiraSection;
  const baseUrl = baseUrlOf(section);
  const sla = section.sla;
  const slaAccount: SlaAccount | null =
    sla.cloud_id && sla.email && sla.api_token
      ? {
          baseUrl: trimSlash(sla.base_url.replaceAll('{cloud_id}', encodeURIComponent(sla.cloud_id))),
          email: sla.email,
          apiToken: sla.api_token,
        }
      : null;
  return {
    account:
      baseUrl && section.email && section.api_token
        ? { baseUrl, email: section.email, apiToken: section.api_token, sla: slaAccount }
        : null,
    webhookSecret: section.webhook_secret ? section.webhook_secret : null,
    project: section.project,
    transform: {
      baseUrl: baseUrl ?? '',
      customFields:
        (section.custom_fields as Record<string, CustomField> | undefined) ?? DEFAULT_CUSTOM_FIELDS,
      slaFields: { ...sla.fields },
    },
    downloadAttachments: section.download_attachments,
    maxAttachmentBytes: section.max_attachment_bytes,
    maxEventBytes: section.max_event_bytes,
    eventRetentionDays: section.event_retention_days,
    rebuildDebounceMs: section.rebuild_debounce_ms,
    retryBaseMs: section.retry_base_ms,
    consistency: {
      maxAgeDays: section.consistency.max_age_days,
      maxBackfill: section.consistency.max_backfill,
    },
    slaSchedule: section.sla_schedule,
    consistencySchedule: section.consistency_schedule,
  };
}

export const jiraConfig: ConnectorConfig = {
  key: KEY,
  placement: 'root',
  schema: JiraSection,
  sources(raw: unknown): ConfiguredSource[] {
    const settings = jiraSettings(raw);
    if (!settings.account) return [];
    return [{ name: 'jira', type: 'jira', config: settings.transform, key: KEY }];
  },
  check(raw: unknown): ConfigCheck {
    const section = raw as JiraSection;
    const problems: string[] = [];
    const warnings: string[] = [];
    for (const column of Object.keys(section.custom_fields ?? {}))
      if (ISSUE_BASE_COLUMNS.has(column))
        problems.push(`config: ${KEY}.custom_fields.${column}: is a column of the issues table already`);
    if (section.domain && !/^[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?$/.test(section.domain))
      problems.push(`config: ${KEY}.domain: must be a host name such as acme.atlassian.net`);
    const settings = jiraSettings(raw);
    if (settings.account && !settings.webhookSecret)
      warnings.push(`config: ${KEY}.webhook_secret: not set; the webhook answers 503 until it is`);
    if (settings.account?.baseUrl.startsWith('http://'))
      warnings.push(`config: ${KEY}.base_url: plain http sends the API token unencrypted`);
    return { problems, warnings };
  },
};
