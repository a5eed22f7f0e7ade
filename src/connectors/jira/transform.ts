import { adfToText } from './adf.js';
import { utcOrNull } from './client.js';
import type { TransformSettings } from './config.js';
import type { CustomField, Entity } from './tables.js';

/**
 * One raw issue document → the rows of the six tables (07 §5.3, §5.4). Pure: the same document
 * and settings always give the same rows, which is what makes replays and the full re-transform
 * agree with incremental processing.
 */

type Json = Record<string, unknown>;
export type Row = Record<string, unknown>;

/** `jira/raw/issues/<KEY>.json`: the issue as fetched plus what Agnes adds. */
export interface RawIssue extends Json {
  id: string;
  key: string;
  fields: Json;
  _synced_at: string;
  _comments: Json[];
  _changelog: Json[];
  _remote_links: Json[];
  /** Attachment ids whose content lies in `raw/attachments/<KEY>/<id>`. */
  _local_attachments?: string[];
  /** Set when the issue was deleted in Jira; the document is kept for the retention period. */
  _deleted_at?: string;
}

export interface IssueRows {
  key: string;
  /** `YYYY-MM` of `created` in UTC: the shard every row of this issue goes to. */
  month: string;
  rows: Record<Entity, Row[]>;
}

/** When `created` is missing or unreadable the rows still need a shard; this name sorts apart from months. */
export const UNDATED = 'undated';

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

const objects = (value: unknown): Json[] => (Array.isArray(value) ? value.filter(isObject) : []);

function text(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return null;
}

function id(value: unknown): string | null {
  return value === null || value === undefined ? null : text(value);
}

function integer(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? Math.trunc(value) : null;
}

function nested(value: unknown, ...path: string[]): unknown {
  let current = value;
  for (const key of path) current = isObject(current) ? current[key] : undefined;
  return current;
}

const email = (person: unknown) => text(nested(person, 'emailAddress'));
const displayName = (person: unknown) => text(nested(person, 'displayName'));
/** Options map to `value`, else `name` (07 §5.4). */
const option = (value: unknown) => text(nested(value, 'value')) ?? text(nested(value, 'name'));

/** `YYYY-MM` in UTC: `2024-03-31T23:30:00-02:00` is April (07 §5.3). */
export function monthOf(created: unknown): string {
  const utc = utcOrNull(created);
  return utc ? utc.slice(0, 7) : UNDATED;
}

function dateOnly(value: unknown): string | null {
  return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}/.test(value) ? value.slice(0, 10) : null;
}

function customValue(field: CustomField, value: unknown): unknown {
  switch (field.kind) {
    case 'string':
      return text(value);
    case 'option':
      return option(value);
    case 'option_list':
      return Array.isArray(value) ? value.map(option).filter((v): v is string => v !== null) : [];
    case 'json':
      return value === null || value === undefined ? null : JSON.stringify(value);
    case 'user_email_list':
      return objects(value)
        .map(email)
        .filter((v): v is string => v !== null);
    case 'adf_text':
      return adfToText(value);
    case 'rating':
      return integer(nested(value, 'rating'));
    case 'jsm_request_type':
      return text(nested(value, 'requestType', 'name'));
    case 'jsm_request_status':
      return text(nested(value, 'currentStatus', 'status'));
  }
}

/** The ongoing cycle if there is one, else the last completed one; an `errorMessage` field is no data (07 §5.4). */
function slaColumns(value: unknown, prefix: string): Row {
  const empty = {
    [`${prefix}_breached`]: null,
    [`${prefix}_goal_millis`]: null,
    [`${prefix}_elapsed_millis`]: null,
  };
  if (!isObject(value) || 'errorMessage' in value) return empty;
  const cycle = isObject(value.ongoingCycle) ? value.ongoingCycle : objects(value.completedCycles).at(-1);
  if (!cycle) return empty;
  return {
    [`${prefix}_breached`]: typeof cycle.breached === 'boolean' ? cycle.breached : null,
    [`${prefix}_goal_millis`]: integer(nested(cycle, 'goalDuration', 'millis')),
    [`${prefix}_elapsed_millis`]: integer(nested(cycle, 'elapsedTime', 'millis')),
  };
}

function issueRow(doc: RawIssue, settings: TransformSettings, commentCount: number): Row {
  const f = doc.fields;
  const custom = Object.fromEntries(
    Object.entries(settings.customFields).map(([column, field]) => [
      column,
      customValue(field, f[field.field]),
    ]),
  );
  return {
    issue_key: doc.key,
    issue_id: id(doc.id),
    issue_url: settings.baseUrl ? `${settings.baseUrl}/browse/${doc.key}` : null,
    summary: text(f.summary),
    description: adfToText(f.description),
    issue_type: text(nested(f.issuetype, 'name')),
    status: text(nested(f.status, 'name')),
    status_category: text(nested(f.status, 'statusCategory', 'name')),
    priority: text(nested(f.priority, 'name')),
    resolution: text(nested(f.resolution, 'name')),
    project_key: text(nested(f.project, 'key')),
    project_name: text(nested(f.project, 'name')),
    creator_email: email(f.creator),
    creator_name: displayName(f.creator),
    reporter_email: email(f.reporter),
    reporter_name: displayName(f.reporter),
    assignee_email: email(f.assignee),
    assignee_name: displayName(f.assignee),
    created_at: utcOrNull(f.created),
    updated_at: utcOrNull(f.updated),
    resolved_at: utcOrNull(f.resolutiondate),
    due_date: dateOnly(f.duedate),
    labels: Array.isArray(f.labels) ? f.labels.filter((l): l is string => typeof l === 'string') : [],
    attachment_count: objects(f.attachment).length,
    comment_count: commentCount,
    issuelink_count: objects(f.issuelinks).length,
    ...custom,
    ...slaColumns(f[settings.slaFields.first_response], 'first_response'),
    ...slaColumns(f[settings.slaFields.time_to_resolution], 'time_to_resolution'),
    _synced_at: utcOrNull(doc._synced_at),
    _raw_file: `issues/${doc.key}.json`,
  };
}

function changelogRows(doc: RawIssue): Row[] {
  return doc._changelog.flatMap((history) =>
    objects(history.items).map((item, index) => ({
      change_id: id(history.id),
      item_index: index,
      issue_key: doc.key,
      author_email: email(history.author),
      author_name: displayName(history.author),
      field_name: text(item.field),
      field_type: text(item.fieldtype),
      from_value: text(item.fromString) ?? text(item.from),
      to_value: text(item.toString) ?? text(item.to),
      changed_at: utcOrNull(history.created),
    })),
  );
}

function linkRows(doc: RawIssue): Row[] {
  return objects(doc.fields.issuelinks).flatMap((link) => {
    const direction = isObject(link.inwardIssue) ? 'inward' : isObject(link.outwardIssue) ? 'outward' : null;
    if (!direction) return [];
    const other = direction === 'inward' ? link.inwardIssue : link.outwardIssue;
    return [
      {
        issue_key: doc.key,
        link_id: id(link.id),
        link_type: text(nested(link.type, 'name')),
        direction,
        linked_issue_key: text(nested(other, 'key')),
        linked_issue_summary: text(nested(other, 'fields', 'summary')),
        linked_issue_status: text(nested(other, 'fields', 'status', 'name')),
        linked_issue_priority: text(nested(other, 'fields', 'priority', 'name')),
      },
    ];
  });
}

export function transformIssue(doc: RawIssue, settings: TransformSettings): IssueRows {
  const local = new Set(doc._local_attachments ?? []);
  const comments = doc._comments.map((comment) => ({
    comment_id: id(comment.id),
    issue_key: doc.key,
    author_email: email(comment.author),
    author_name: displayName(comment.author),
    body: adfToText(comment.body),
    created_at: utcOrNull(comment.created),
    updated_at: utcOrNull(comment.updated),
    update_author_email: email(comment.updateAuthor),
  }));
  const attachments = objects(doc.fields.attachment).map((a) => {
    const attachmentId = id(a.id);
    return {
      attachment_id: attachmentId,
      issue_key: doc.key,
      filename: text(a.filename),
      size_bytes: integer(a.size),
      mime_type: text(a.mimeType),
      author_email: email(a.author),
      created_at: utcOrNull(a.created),
      content_url: text(a.content),
      thumbnail_url: text(a.thumbnail),
      local_path: attachmentId && local.has(attachmentId) ? `${doc.key}/${attachmentId}` : null,
    };
  });
  const remoteLinks = doc._remote_links.map((link) => ({
    issue_key: doc.key,
    remote_link_id: id(link.id),
    url: text(nested(link.object, 'url')),
    title: text(nested(link.object, 'title')),
    application_name: text(nested(link.application, 'name')),
    application_type: text(nested(link.application, 'type')),
  }));
  return {
    key: doc.key,
    month: monthOf(doc.fields.created),
    rows: {
      issues: [issueRow(doc, settings, comments.length)],
      comments,
      attachments,
      changelog: changelogRows(doc),
      issuelinks: linkRows(doc),
      remote_links: remoteLinks,
    },
  };
}
