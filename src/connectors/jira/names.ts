/**
 * Names from webhook payloads and the Jira API that may become part of a path (07 §5.1, §5.7):
 * validated here, before they touch the file system or a URL.
 */

const ISSUE_KEY = /^[A-Z][A-Z0-9_]+-[0-9]+$/;
const NUMERIC_ID = /^[0-9]{1,18}$/;
const EVENT_NAME = /^[A-Za-z0-9_:.-]{1,100}$/;

/** Issue keys are bounded too: a key is a file name (`raw/issues/<KEY>.json`). */
export function isIssueKey(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 120 && ISSUE_KEY.test(value);
}

export function isIssueId(value: unknown): value is string {
  return typeof value === 'string' && NUMERIC_ID.test(value);
}

export function isAttachmentId(value: unknown): value is string {
  return typeof value === 'string' && NUMERIC_ID.test(value);
}

export function isEventName(value: unknown): value is string {
  return typeof value === 'string' && EVENT_NAME.test(value);
}
