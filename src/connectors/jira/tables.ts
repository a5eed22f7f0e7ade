/** The six tables of the Jira source (07 §5.4): names, columns and DuckDB types. */

export const ENTITIES = [
  'issues',
  'comments',
  'attachments',
  'changelog',
  'issuelinks',
  'remote_links',
] as const;
export type Entity = (typeof ENTITIES)[number];

/** How a column travels: JSON text of this type, then a cast to `type` (timestamps and dates arrive as ISO text). */
export interface Column {
  name: string;
  type: 'VARCHAR' | 'BIGINT' | 'BOOLEAN' | 'TIMESTAMPTZ' | 'DATE' | 'VARCHAR[]';
}

const col = (name: string, type: Column['type'] = 'VARCHAR'): Column => ({ name, type });

export const CUSTOM_FIELD_KINDS = [
  'string',
  'option',
  'option_list',
  'json',
  'user_email_list',
  'adf_text',
  'rating',
  'jsm_request_type',
  'jsm_request_status',
] as const;
export type CustomFieldKind = (typeof CUSTOM_FIELD_KINDS)[number];

export interface CustomField {
  field: string;
  kind: CustomFieldKind;
}

const KIND_TYPE: Record<CustomFieldKind, Column['type']> = {
  string: 'VARCHAR',
  option: 'VARCHAR',
  option_list: 'VARCHAR[]',
  json: 'VARCHAR',
  user_email_list: 'VARCHAR[]',
  adf_text: 'VARCHAR',
  rating: 'BIGINT',
  jsm_request_type: 'VARCHAR',
  jsm_request_status: 'VARCHAR',
};

/** The original's columns, reproduced when `jira.custom_fields` is not configured (07 §5.4). */
export const DEFAULT_CUSTOM_FIELDS: Record<string, CustomField> = {
  request_type: { field: 'customfield_10010', kind: 'jsm_request_type' },
  request_status: { field: 'customfield_10010', kind: 'jsm_request_status' },
  severity: { field: 'customfield_10004', kind: 'option' },
  triage: { field: 'customfield_10323', kind: 'option_list' },
  configuration_item: { field: 'customfield_10511', kind: 'json' },
  participants: { field: 'customfield_10156', kind: 'user_email_list' },
  organizations: { field: 'customfield_10002', kind: 'json' },
  spam: { field: 'customfield_10365', kind: 'option' },
  context: { field: 'customfield_10330', kind: 'adf_text' },
  custom_url: { field: 'customfield_10325', kind: 'string' },
  slack_link: { field: 'customfield_10350', kind: 'option' },
  technical_issue_category: { field: 'customfield_10676', kind: 'option' },
  email_address: { field: 'customfield_10475', kind: 'option' },
  satisfaction: { field: 'customfield_10157', kind: 'rating' },
  l3_team: { field: 'customfield_11831', kind: 'option' },
};

const ISSUE_HEAD: Column[] = [
  col('issue_key'),
  col('issue_id'),
  col('issue_url'),
  col('summary'),
  col('description'),
  col('issue_type'),
  col('status'),
  col('status_category'),
  col('priority'),
  col('resolution'),
  col('project_key'),
  col('project_name'),
  col('creator_email'),
  col('creator_name'),
  col('reporter_email'),
  col('reporter_name'),
  col('assignee_email'),
  col('assignee_name'),
  col('created_at', 'TIMESTAMPTZ'),
  col('updated_at', 'TIMESTAMPTZ'),
  col('resolved_at', 'TIMESTAMPTZ'),
  col('due_date', 'DATE'),
  col('labels', 'VARCHAR[]'),
  col('attachment_count', 'BIGINT'),
  col('comment_count', 'BIGINT'),
  col('issuelink_count', 'BIGINT'),
];

const ISSUE_TAIL: Column[] = [
  col('first_response_breached', 'BOOLEAN'),
  col('first_response_goal_millis', 'BIGINT'),
  col('first_response_elapsed_millis', 'BIGINT'),
  col('time_to_resolution_breached', 'BOOLEAN'),
  col('time_to_resolution_goal_millis', 'BIGINT'),
  col('time_to_resolution_elapsed_millis', 'BIGINT'),
  col('_synced_at', 'TIMESTAMPTZ'),
  col('_raw_file'),
];

/** Column names custom fields may not take. */
export const ISSUE_BASE_COLUMNS: ReadonlySet<string> = new Set(
  [...ISSUE_HEAD, ...ISSUE_TAIL].map((c) => c.name),
);

const CHILD_COLUMNS: Record<Exclude<Entity, 'issues'>, Column[]> = {
  comments: [
    col('comment_id'),
    col('issue_key'),
    col('author_email'),
    col('author_name'),
    col('body'),
    col('created_at', 'TIMESTAMPTZ'),
    col('updated_at', 'TIMESTAMPTZ'),
    col('update_author_email'),
  ],
  attachments: [
    col('attachment_id'),
    col('issue_key'),
    col('filename'),
    col('size_bytes', 'BIGINT'),
    col('mime_type'),
    col('author_email'),
    col('created_at', 'TIMESTAMPTZ'),
    col('content_url'),
    col('thumbnail_url'),
    col('local_path'),
  ],
  changelog: [
    col('change_id'),
    col('item_index', 'BIGINT'),
    col('issue_key'),
    col('author_email'),
    col('author_name'),
    col('field_name'),
    col('field_type'),
    col('from_value'),
    col('to_value'),
    col('changed_at', 'TIMESTAMPTZ'),
  ],
  issuelinks: [
    col('issue_key'),
    col('link_id'),
    col('link_type'),
    col('direction'),
    col('linked_issue_key'),
    col('linked_issue_summary'),
    col('linked_issue_status'),
    col('linked_issue_priority'),
  ],
  remote_links: [
    col('issue_key'),
    col('remote_link_id'),
    col('url'),
    col('title'),
    col('application_name'),
    col('application_type'),
  ],
};

/** Every table's columns in order; the issues table carries the configured custom columns. */
export function tableColumns(customFields: Record<string, CustomField>): Record<Entity, Column[]> {
  const custom = Object.entries(customFields).map(([name, field]) => col(name, KIND_TYPE[field.kind]));
  return { issues: [...ISSUE_HEAD, ...custom, ...ISSUE_TAIL], ...CHILD_COLUMNS };
}

/** The order rows are written in, so a shard's content does not depend on the order events arrived. */
export const SORT_KEYS: Record<Entity, string[]> = {
  issues: ['issue_key'],
  comments: ['issue_key', 'comment_id'],
  attachments: ['issue_key', 'attachment_id'],
  changelog: ['issue_key', 'change_id', 'item_index'],
  issuelinks: ['issue_key', 'link_id', 'direction'],
  remote_links: ['issue_key', 'remote_link_id'],
};

export const PRIMARY_KEYS: Record<Entity, string[]> = {
  issues: ['issue_key'],
  comments: ['comment_id'],
  attachments: ['attachment_id'],
  changelog: ['change_id', 'item_index'],
  issuelinks: ['issue_key', 'link_id', 'direction'],
  remote_links: ['issue_key', 'remote_link_id'],
};

export const DESCRIPTIONS: Record<Entity, string> = {
  issues: 'Jira issues',
  comments: 'Comments on Jira issues',
  attachments: 'Attachments of Jira issues',
  changelog: 'Field changes of Jira issues, one row per changed field',
  issuelinks: 'Links between Jira issues',
  remote_links: 'Remote links of Jira issues',
};
