import type { UserAttributesView } from '../../../contract/index.js';
import { FormStatus } from '../components/layout.js';

/** One editable attribute: its key and its values, one per line (kept exactly as typed). */
function AttributeRow(props: { index: number | string; name?: string; values?: readonly string[] }) {
  const { index } = props;
  return (
    <fieldset data-attribute-row>
      <legend>{props.name ? `Attribute ${props.name}` : 'New attribute'}</legend>
      <div class="row">
        <div>
          <label for={`attr-key-${index}`}>Key</label>
          <input
            id={`attr-key-${index}`}
            name="key"
            type="text"
            pattern="[a-z][a-z0-9_]{0,39}"
            maxLength={40}
            value={props.name ?? ''}
          />
        </div>
        <div>
          <label for={`attr-values-${index}`}>Values (one per line)</label>
          <textarea id={`attr-values-${index}`} name="values" rows={2} spellcheck={false}>
            {(props.values ?? []).join('\n')}
          </textarea>
        </div>
        <div class="shrink">
          <button type="button" class="secondary small" data-remove-attribute>
            Remove
          </button>
        </div>
      </div>
    </fieldset>
  );
}

/**
 * The attributes a user's row policies bind (12 §1): stored ones edited here and saved together
 * (the PUT replaces every key), derived ones shown read-only.
 */
export function AttributesEditor(props: { userId: string; view: UserAttributesView }) {
  const { derived, attributes } = props.view;
  const entries = Object.entries(attributes);
  return (
    <section class="card" aria-labelledby="attributes-h">
      <h2 id="attributes-h">Attributes</h2>
      <p class="muted">
        Row policies bind these as <code>{'{{user.attr.<key>}}'}</code>. Keys: lower case letters, digits and
        _; values are kept exactly as typed.
      </p>
      <h3>Derived (read-only)</h3>
      <dl class="facts">
        <div>
          <dt class="muted">email</dt>
          <dd>{derived.email}</dd>
        </div>
        <div>
          <dt class="muted">user_id</dt>
          <dd>
            <code>{derived.user_id}</code>
          </dd>
        </div>
        <div>
          <dt class="muted">groups</dt>
          <dd>{derived.groups.length > 0 ? derived.groups.join(', ') : '—'}</dd>
        </div>
      </dl>
      <form id="attributes-form" data-user-id={props.userId} aria-label="Stored attributes">
        <h3>Stored</h3>
        <div data-attribute-rows>
          {entries.map(([key, values], i) => (
            <AttributeRow key={key} index={i} name={key} values={values} />
          ))}
          {entries.length === 0 ? <AttributeRow index={0} /> : null}
        </div>
        <template id="attribute-template">
          <AttributeRow index="new" />
        </template>
        <button type="button" class="secondary" id="add-attribute">
          Add attribute
        </button>{' '}
        <button type="submit">Save attributes</button>
        <FormStatus />
      </form>
    </section>
  );
}
