import type {
  GroupList,
  MaskedColumnEntry,
  PolicyPreview,
  RowPolicyInput,
  RowPolicyList,
  RowPolicyView,
  UserAttributesView,
  UserList,
} from '../../contract/index.js';
import type { ApiClient } from '../client.js';
import type { CliContext } from '../context.js';
import { CliError, EXIT } from '../errors.js';
import { type Cell, toTable } from '../format.js';
import { adminClient, resolveGroup, resolveUser } from './admin.js';

/** `da admin policies …` and `da admin users attributes …` (06 §5.3, 12 §5). */

const enc = encodeURIComponent;
const PAGE = { per_page: 200 };

/** The flags that describe a policy, on `add`, `update` and as the draft of `preview`. */
export interface PolicyFlags {
  name?: string;
  description?: string;
  filter?: string;
  everyone?: boolean;
  user: string[];
  group: string[];
  mask: string[];
  disabled?: boolean;
  enabled?: boolean;
  clearMasks?: boolean;
}

/** `COL=null|hash` (06 §5.3) or `COL:null|hash`; the last separator splits, so a column may contain either. */
export function parseMask(text: string): MaskedColumnEntry {
  const at = Math.max(text.lastIndexOf('='), text.lastIndexOf(':'));
  const column = at > 0 ? text.slice(0, at) : '';
  const mask = text.slice(at + 1);
  if (!column || (mask !== 'null' && mask !== 'hash'))
    throw new CliError(EXIT.usage, `--mask expects COLUMN=null or COLUMN=hash, got ${text}`, 'usage');
  return { column, mask };
}

/** `KEY=VALUE[,VALUE…]`; an empty value list (`KEY=`) stores the key with no values. */
export function parseAttribute(text: string): [string, string[]] {
  const at = text.indexOf('=');
  if (at <= 0) throw new CliError(EXIT.usage, `expected KEY=VALUE[,VALUE…], got ${text}`, 'usage');
  const values = text.slice(at + 1);
  return [text.slice(0, at), values === '' ? [] : values.split(',')];
}

/** Whether any target flag was given: then the targets replace the stored ones whole. */
const hasTargets = (flags: PolicyFlags) =>
  flags.everyone === true || flags.user.length > 0 || flags.group.length > 0;

async function targets(client: ApiClient, flags: PolicyFlags): Promise<RowPolicyInput['applies_to']> {
  const [users, groups] = await Promise.all([
    Promise.all(flags.user.map((ref) => resolveUser(client, ref))),
    Promise.all(flags.group.map((ref) => resolveGroup(client, ref))),
  ]);
  return { everyone: flags.everyone === true, users, groups };
}

/** The `RowPolicyInput` fields the flags give; an empty `--filter` means all rows. */
async function policyFields(client: ApiClient, flags: PolicyFlags): Promise<Partial<RowPolicyInput>> {
  if (flags.disabled && flags.enabled)
    throw new CliError(EXIT.usage, '--enabled and --disabled contradict each other', 'usage');
  const fields: Partial<RowPolicyInput> = {};
  if (flags.name !== undefined) fields.name = flags.name;
  if (flags.description !== undefined) fields.description = flags.description;
  if (flags.filter !== undefined) fields.row_filter = flags.filter.trim() === '' ? null : flags.filter;
  if (hasTargets(flags)) fields.applies_to = await targets(client, flags);
  if (flags.clearMasks && flags.mask.length > 0)
    throw new CliError(EXIT.usage, '--clear-masks and --mask contradict each other', 'usage');
  if (flags.mask.length > 0) fields.masked_columns = flags.mask.map(parseMask);
  if (flags.clearMasks) fields.masked_columns = [];
  if (flags.disabled) fields.enabled = false;
  if (flags.enabled) fields.enabled = true;
  return fields;
}

/** Emails and group names for the ids a policy names, for text output. */
async function targetNames(client: ApiClient): Promise<(policy: RowPolicyView) => string> {
  const [users, groups] = await Promise.all([
    client.json<UserList>('GET', '/api/users', { query: PAGE }),
    client.json<GroupList>('GET', '/api/admin/groups', { query: PAGE }),
  ]);
  const email = new Map(users.users.map((u) => [u.id, u.email]));
  const group = new Map(groups.groups.map((g) => [g.id, g.name]));
  return (policy) =>
    [
      ...(policy.applies_to.everyone ? ['everyone'] : []),
      ...policy.applies_to.users.map((id) => email.get(id) ?? id),
      ...policy.applies_to.groups.map((id) => `group ${group.get(id) ?? id}`),
    ].join(', ');
}

const maskText = (masks: readonly MaskedColumnEntry[]) =>
  masks.map((m) => `${m.column}=${m.mask}`).join(', ');

function policyText(policy: RowPolicyView, applies: string): string {
  return [
    `${policy.name} (${policy.enabled ? 'enabled' : 'disabled'}, id ${policy.id})`,
    `  applies to  ${applies}`,
    `  filter      ${policy.row_filter ?? '(all rows)'}`,
    `  masks       ${maskText(policy.masked_columns) || 'none'}`,
    ...(policy.error ? [`  ERROR       ${policy.error} (its readers see no rows)`] : []),
  ].join('\n');
}

export async function policiesList(ctx: CliContext, table: string): Promise<void> {
  const client = await adminClient(ctx);
  const body = await client.json<RowPolicyList>('GET', `/api/admin/tables/${enc(table)}/policies`);
  const names = ctx.out.json ? null : await targetNames(client);
  ctx.out.result(body, () =>
    body.policies.length === 0
      ? `No policies: ${table} is not bound.`
      : body.policies.map((p) => policyText(p, names?.(p) ?? '')).join('\n\n'),
  );
}

export async function policiesAdd(ctx: CliContext, flags: PolicyFlags, table: string): Promise<void> {
  if (!flags.name) throw new CliError(EXIT.usage, 'a policy needs --name', 'usage');
  if (!hasTargets(flags))
    throw new CliError(EXIT.usage, 'name whom it applies to: --everyone, --user or --group', 'usage');
  const client = await adminClient(ctx);
  const input = await policyFields(client, flags);
  const policy = await client.json<RowPolicyView>('POST', `/api/admin/tables/${enc(table)}/policies`, {
    body: input,
  });
  ctx.out.result(policy, () => `Added policy ${policy.name} to ${table} (id ${policy.id})`);
}

export async function policiesUpdate(ctx: CliContext, flags: PolicyFlags, id: string): Promise<void> {
  const client = await adminClient(ctx);
  const patch = await policyFields(client, flags);
  if (Object.keys(patch).length === 0)
    throw new CliError(EXIT.usage, 'nothing to change; pass the flags of the fields to replace', 'usage');
  const policy = await client.json<RowPolicyView>('PUT', `/api/admin/policies/${enc(id)}`, { body: patch });
  ctx.out.result(policy, () => `Updated policy ${policy.name} (${policy.enabled ? 'enabled' : 'disabled'})`);
}

export async function policiesRemove(ctx: CliContext, id: string): Promise<void> {
  const client = await adminClient(ctx);
  await client.request('DELETE', `/api/admin/policies/${enc(id)}`);
  ctx.out.result({ deleted: id }, () => `Deleted policy ${id}`);
}

/**
 * What `--user` would see of the table. Draft flags make a policy that replaces the saved one of
 * the same name or joins them; without `--name` it is called `draft`, and without `--everyone` or
 * `--group` it applies to the previewed user.
 */
export async function policiesPreview(
  ctx: CliContext,
  flags: Omit<PolicyFlags, 'user'> & { user: string },
  table: string,
): Promise<void> {
  const client = await adminClient(ctx);
  const userId = await resolveUser(client, flags.user);
  const fields = await policyFields(client, { ...flags, user: [] });
  const policy =
    Object.keys(fields).length > 0
      ? { name: 'draft', applies_to: { everyone: false, users: [userId], groups: [] }, ...fields }
      : undefined;
  const body = await client.json<PolicyPreview>('POST', '/api/admin/policies/preview', {
    body: { table_id: table, user_id: userId, ...(policy ? { policy } : {}) },
  });
  const names = body.policies.map((p) => p.name).join(', ');
  ctx.out.result(body, () =>
    [
      `${flags.user} sees ${body.rows} rows of ${table} (${body.kind}${names ? `: ${names}` : ''})`,
      `  bound filter  ${body.bound_filter ?? '(all rows)'}`,
      `  masks         ${maskText(body.masked_columns) || 'none'}`,
      '',
      body.sample.rows.length > 0
        ? toTable({ columns: body.sample.columns, rows: body.sample.rows as Cell[][] })
        : '(no rows)',
    ].join('\n'),
  );
}

// Attributes

function attributesText(view: UserAttributesView): string {
  const stored = Object.entries(view.attributes);
  return [
    ...(stored.length > 0 ? stored.map(([k, v]) => `${k} = ${v.join(', ')}`) : ['(no stored attributes)']),
    '',
    'derived:',
    `  email = ${view.derived.email}`,
    `  user_id = ${view.derived.user_id}`,
    `  groups = ${view.derived.groups.join(', ')}`,
  ].join('\n');
}

export async function attributesGet(ctx: CliContext, ref: string): Promise<void> {
  const client = await adminClient(ctx);
  const id = await resolveUser(client, ref);
  const view = await client.json<UserAttributesView>('GET', `/api/admin/users/${enc(id)}/attributes`);
  ctx.out.result(view, () => attributesText(view));
}

/** Replaces every stored key with the given ones (the PUT's semantics, 12 §4). */
export async function attributesSet(ctx: CliContext, ref: string, pairs: string[]): Promise<void> {
  const attributes = Object.fromEntries(pairs.map(parseAttribute));
  const client = await adminClient(ctx);
  const id = await resolveUser(client, ref);
  const view = await client.json<UserAttributesView>('PUT', `/api/admin/users/${enc(id)}/attributes`, {
    body: { attributes },
  });
  ctx.out.result(view, () => attributesText(view));
}
