import type { MaskedColumnEntry, RowPolicyView } from '../../../contract/index.js';
import { ActionButton, Badge, DataTable, Options } from '../components/bits.js';
import { FormStatus, type PageContext } from '../components/layout.js';

/**
 * The Policies section of `/admin/tables/{id}` (12 §5): the table's row and column policies, the
 * add/edit form and the "Preview as user" panel. The `admin-policies` browser module sends the form
 * (its targets and masks nest) and runs the preview with the draft being edited.
 */

export interface PolicyChoices {
  users: { id: string; email: string }[];
  groups: { id: string; name: string }[];
  /** The table's current columns, for the mask pickers. */
  columns: { name: string; type: string }[];
}

const idOf = (policy: RowPolicyView) => encodeURIComponent(policy.id);

/** `{column, mask}` entries as text: `email (hash), salary (null)`. */
export function maskText(masks: readonly MaskedColumnEntry[]): string {
  return masks.map((m) => `${m.column} (${m.mask})`).join(', ');
}

/** Whom a policy applies to, by email and group name (an id no longer known stays an id). */
function targetText(policy: RowPolicyView, choices: PolicyChoices): string {
  const email = new Map(choices.users.map((u) => [u.id, u.email]));
  const group = new Map(choices.groups.map((g) => [g.id, g.name]));
  return [
    ...(policy.applies_to.everyone ? ['everyone'] : []),
    ...policy.applies_to.users.map((id) => email.get(id) ?? id),
    ...policy.applies_to.groups.map((id) => `group ${group.get(id) ?? id}`),
  ].join(', ');
}

/** A failing policy's reason, shown where nobody can miss it: its readers see no rows (12 §2). */
export function PolicyError(props: { policy: Pick<RowPolicyView, 'name' | 'error'> }) {
  if (!props.policy.error) return null;
  return (
    <p class="notice error">
      <Badge tone="err">does not bind</Badge> {props.policy.error}
    </p>
  );
}

function deleteConfirmation(policy: RowPolicyView, tableId: string, last: boolean): string {
  return last
    ? `Delete the policy "${policy.name}"? It is the last policy of ${tableId}: deleting it UNBINDS the table, and everyone who may read ${tableId} sees all its rows and columns again.`
    : `Delete the policy "${policy.name}"?`;
}

export function PolicyList(props: {
  ctx: PageContext;
  tableId: string;
  policies: RowPolicyView[];
  choices: PolicyChoices;
}) {
  const { ctx, tableId, policies } = props;
  if (policies.length === 0)
    return (
      <p class="muted">
        No policies: everyone who may read {tableId} sees all its rows and columns. Adding a policy binds the
        table, and its readers then see only what an enabled policy that applies to them shows.
      </p>
    );
  return (
    <DataTable headings={['Policy', 'Applies to', 'Row filter', 'Masked columns', 'State', 'Actions']}>
      {policies.map((policy) => (
        <tr key={policy.id}>
          <td>
            <a href={`/admin/tables/${encodeURIComponent(tableId)}?edit=${idOf(policy)}`}>{policy.name}</a>
            {policy.description ? <div class="muted text">{policy.description}</div> : null}
            <PolicyError policy={policy} />
          </td>
          <td>{targetText(policy, props.choices)}</td>
          <td>
            {policy.row_filter === null ? (
              <span class="muted">all rows</span>
            ) : (
              <code>{policy.row_filter}</code>
            )}
          </td>
          <td>{policy.masked_columns.length > 0 ? maskText(policy.masked_columns) : '—'}</td>
          <td>
            {policy.error ? <Badge tone="err">error</Badge> : null}{' '}
            {policy.enabled ? <Badge tone="ok">enabled</Badge> : <Badge tone="warn">disabled</Badge>}
          </td>
          <td>
            <a
              class="button secondary small"
              href={`/admin/tables/${encodeURIComponent(tableId)}?edit=${idOf(policy)}`}
              aria-label={`Edit policy ${policy.name}`}
            >
              Edit
            </a>{' '}
            <ActionButton
              csrf={ctx.csrfToken}
              api={`/api/admin/policies/${idOf(policy)}`}
              method="DELETE"
              confirm={deleteConfirmation(policy, tableId, policies.length === 1)}
              danger
              label={`Delete policy ${policy.name}`}
              text="Delete"
            />
          </td>
        </tr>
      ))}
    </DataTable>
  );
}

function MultiSelect(props: {
  id: string;
  name: string;
  label: string;
  options: { value: string; label: string }[];
  selected: readonly string[];
}) {
  const chosen = new Set(props.selected);
  return (
    <div>
      <label for={props.id}>{props.label}</label>
      <select id={props.id} name={props.name} multiple size={Math.min(6, Math.max(2, props.options.length))}>
        {props.options.map((o) => (
          <option key={o.value} value={o.value} selected={chosen.has(o.value)}>
            {o.label}
          </option>
        ))}
      </select>
    </div>
  );
}

function MaskPickers(props: { columns: PolicyChoices['columns']; masks: readonly MaskedColumnEntry[] }) {
  const maskOf = new Map(props.masks.map((m) => [m.column, m.mask]));
  if (props.columns.length === 0)
    return <p class="muted">The table has no published columns yet, so none can be masked.</p>;
  return (
    <div class="row">
      {props.columns.map((column, i) => (
        <div key={column.name}>
          <label for={`mask-${i}`}>
            {column.name} <span class="muted">{column.type}</span>
          </label>
          <select id={`mask-${i}`} name="mask" data-column={column.name}>
            <option value="">shown</option>
            <Options values={['null', 'hash']} selected={maskOf.get(column.name)} />
          </select>
        </div>
      ))}
    </div>
  );
}

/** Add or edit one policy; with `policy` the form edits it (PUT), else adds one (POST). */
export function PolicyForm(props: { tableId: string; policy: RowPolicyView | null; choices: PolicyChoices }) {
  const { policy, choices } = props;
  const applies = policy?.applies_to ?? { everyone: false, users: [], groups: [] };
  return (
    <form
      id="policy-form"
      class="card"
      aria-labelledby="policy-form-h"
      data-table-id={props.tableId}
      data-policy-id={policy?.id}
    >
      <h2 id="policy-form-h">{policy ? `Edit policy ${policy.name}` : 'Add a policy'}</h2>
      <div class="row">
        <div>
          <label for="policy-name">Name</label>
          <input
            id="policy-name"
            name="name"
            type="text"
            required
            maxLength={100}
            value={policy?.name ?? ''}
          />
        </div>
        <div>
          <label for="policy-description">Description</label>
          <input
            id="policy-description"
            name="description"
            type="text"
            maxLength={2000}
            value={policy?.description ?? ''}
          />
        </div>
      </div>
      <label for="policy-filter">Row filter</label>
      <textarea
        id="policy-filter"
        name="row_filter"
        spellcheck={false}
        maxLength={4000}
        aria-describedby="policy-filter-hint policy-error"
      >
        {policy?.row_filter ?? ''}
      </textarea>
      <p id="policy-filter-hint" class="muted">
        One condition over the table's columns, e.g. <code>{"region = 'EU'"}</code> or{' '}
        <code>{'list_contains({{user.attr.regions}}, region)'}</code>. Placeholders:{' '}
        <code>{'{{user.email}}'}</code>, <code>{'{{user.id}}'}</code>, <code>{'{{user.groups}}'}</code>,{' '}
        <code>{'{{user.attr.<key>}}'}</code>. Empty: all rows.
      </p>
      <fieldset>
        <legend>Applies to</legend>
        <label class="inline" for="policy-everyone">
          <input id="policy-everyone" name="everyone" type="checkbox" checked={applies.everyone} /> Everyone
        </label>
        <div class="row">
          <MultiSelect
            id="policy-users"
            name="users"
            label="Users"
            options={choices.users.map((u) => ({ value: u.id, label: u.email }))}
            selected={applies.users}
          />
          <MultiSelect
            id="policy-groups"
            name="groups"
            label="Groups"
            options={choices.groups.map((g) => ({ value: g.id, label: g.name }))}
            selected={applies.groups}
          />
        </div>
        <p class="muted">Hold Ctrl (Cmd on a Mac) to choose several users or groups.</p>
      </fieldset>
      <fieldset>
        <legend>Masked columns</legend>
        <MaskPickers columns={choices.columns} masks={policy?.masked_columns ?? []} />
      </fieldset>
      <div>
        <label class="inline" for="policy-enabled">
          <input id="policy-enabled" name="enabled" type="checkbox" checked={policy?.enabled ?? true} />{' '}
          Enabled
        </label>
      </div>
      <div id="policy-error" class="notice error" role="alert" hidden />
      <button type="submit">{policy ? 'Save policy' : 'Add policy'}</button>
      {policy ? (
        <>
          {' '}
          <a href={`/admin/tables/${encodeURIComponent(props.tableId)}`}>Cancel</a>
        </>
      ) : null}
      <FormStatus />
    </form>
  );
}

/** What a user would see of the table with the saved policies and the draft of the form. */
export function PreviewPanel(props: { users: PolicyChoices['users'] }) {
  return (
    <section class="card" aria-labelledby="preview-h">
      <h2 id="preview-h">Preview as user</h2>
      <p class="muted">
        The saved policies with the form's draft in place of the policy of the same name; nothing is saved.
      </p>
      <div class="row">
        <div>
          <label for="preview-user">User</label>
          <select id="preview-user">
            {props.users.map((u) => (
              <option key={u.id} value={u.id}>
                {u.email}
              </option>
            ))}
          </select>
        </div>
        <div class="shrink">
          <button type="button" id="preview-run" class="secondary">
            Preview
          </button>
        </div>
      </div>
      <p id="preview-summary" role="status" aria-live="polite" />
      <div id="preview-error" class="notice error" role="alert" hidden />
      <div id="preview-details" hidden>
        <h3>Bound filter</h3>
        <pre id="preview-filter" />
        <p id="preview-masked" />
        <div id="preview-rows" class="results table-wrap" />
      </div>
    </section>
  );
}
