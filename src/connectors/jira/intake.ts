import { createHmac, timingSafeEqual } from 'node:crypto';
import { AgnesError } from '../../core/errors.js';
import type { WebhookHeaders } from '../../core/extract/push.js';
import { isObject } from './files.js';
import type { Inbox, InboxEvent } from './inbox.js';
import { isEventName, isIssueId, isIssueKey } from './names.js';

/**
 * `POST /webhooks/jira` (07 §5.1, §5.7; 03 §20): verifies a delivery and stores it in the inbox.
 * It does no outbound HTTP; everything after the durable write happens in the worker.
 */

export type WebhookAnswer =
  | { status: 'accepted'; event: string; issue: string | null; event_id: string }
  | { status: 'ignored'; event: string };

const ISSUE_EVENTS = new Set(['jira:issue_created', 'jira:issue_updated', 'jira:issue_deleted']);
const PARENT_EVENTS = new Set([
  'comment_created',
  'comment_updated',
  'comment_deleted',
  'attachment_created',
  'attachment_deleted',
]);
const LINK_EVENTS = new Set(['issuelink_created', 'issuelink_deleted']);

/** Whether the worker has anything to do for an event type (07 §5.1 classification table). */
export function isHandledEvent(event: string): boolean {
  return (
    ISSUE_EVENTS.has(event) ||
    PARENT_EVENTS.has(event) ||
    LINK_EVENTS.has(event) ||
    event.startsWith('worklog_')
  );
}

function header(headers: WebhookHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * HMAC-SHA256 of the raw bytes, compared in constant time (03 §20): `X-Hub-Signature-256` wins over
 * the legacy `X-Hub-Signature`; `sha256=` (any case) or bare hex; bad hex or length is a mismatch.
 */
export function verifySignature(secret: string, body: Buffer, headers: WebhookHeaders): boolean {
  const given = header(headers, 'x-hub-signature-256') ?? header(headers, 'x-hub-signature');
  if (given === undefined) return false;
  const hex = given.trim().replace(/^sha256=/i, '');
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) return false;
  const expected = createHmac('sha256', secret).update(body).digest();
  return timingSafeEqual(Buffer.from(hex, 'hex'), expected);
}

function numericId(value: unknown): string | null | undefined {
  if (value === undefined || value === null) return undefined;
  const text = typeof value === 'number' ? String(value) : value;
  return isIssueId(text) ? text : null;
}

/** The issue an event concerns: its key, or (id-only events) numeric ids; 400 when neither is valid. */
function issueOf(event: string, payload: Record<string, unknown>): { key: string | null; ids: string[] } {
  const issue = isObject(payload.issue) ? payload.issue : {};
  const candidates: unknown[] = [];
  if (LINK_EVENTS.has(event)) {
    const link = isObject(payload.issueLink) ? payload.issueLink : {};
    candidates.push(link.sourceIssueId, link.destinationIssueId);
  } else {
    const key = issue.key ?? payload.issue_key;
    if (key !== undefined) {
      if (!isIssueKey(key)) throw new AgnesError('invalid_issue_key', 'the issue key is not valid');
      return { key, ids: [] };
    }
    const worklog = isObject(payload.worklog) ? payload.worklog : {};
    const attachment = isObject(payload.attachment) ? payload.attachment : {};
    candidates.push(issue.id, worklog.issueId, attachment.issueId);
  }
  const ids = candidates.map(numericId).filter((id) => id !== undefined);
  if (ids.length === 0 || ids.some((id) => id === null))
    throw new AgnesError('invalid_issue_key', 'the event names no valid issue key or id');
  return { key: null, ids: [...new Set(ids as string[])] };
}

export interface IntakeSettings {
  webhookSecret: string | null;
  /** Whether the REST account is configured (the worker could fetch what the event names). */
  restConfigured: boolean;
}

/** The checks that need no body (03 §20 order: secret first, then the REST account). */
export function checkConfigured(settings: IntakeSettings): void {
  if (!settings.webhookSecret)
    throw new AgnesError('webhook_secret_not_configured', 'the Jira webhook secret is not configured');
  if (!settings.restConfigured) throw new AgnesError('jira_not_configured', 'Jira is not configured');
}

/** Verifies, validates, classifies and durably stores one delivery (07 §5.1 order). */
export async function receiveWebhook(
  settings: IntakeSettings,
  inbox: Inbox,
  body: Buffer,
  headers: WebhookHeaders,
): Promise<WebhookAnswer> {
  checkConfigured(settings);
  if (!verifySignature(settings.webhookSecret as string, body, headers))
    throw new AgnesError('invalid_signature', 'the webhook signature is missing or does not match');
  const text = body.toString('utf8');
  if (text.trim() === '') throw new AgnesError('empty_payload', 'the webhook body is empty');
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch {
    throw new AgnesError('invalid_json', 'the webhook body is not JSON');
  }
  if (!isObject(payload)) throw new AgnesError('not_an_object', 'the webhook body is not a JSON object');
  const event = payload.webhookEvent;
  if (!isEventName(event)) throw new AgnesError('invalid_event', 'webhookEvent is missing or not valid');
  if (!isHandledEvent(event)) return { status: 'ignored', event };
  const issue = issueOf(event, payload);
  const entry: InboxEvent = {
    ...inbox.stamp(),
    event,
    issue_key: issue.key,
    issue_ids: issue.ids,
    payload,
  };
  await inbox.append(entry);
  return { status: 'accepted', event, issue: issue.key, event_id: entry.event_id };
}
