import type { SqlAlert } from '../../../contract/index.js';
import { ActionButton, ApiForm, Badge, DataTable, fmtDate, Options, statusTone } from '../components/bits.js';
import { FormStatus, Layout, type PageContext } from '../components/layout.js';

const CONDITION_TYPES = ['row_count', 'first_value'] as const;
const OPERATORS = ['>', '>=', '<', '<=', '==', '!='] as const;

const idOf = (alert: SqlAlert) => encodeURIComponent(alert.id);

function AlertRow(props: { ctx: PageContext; alert: SqlAlert }) {
  const { ctx, alert } = props;
  const { condition } = alert;
  return (
    <tr>
      <td>
        <a href={`/alerts?edit=${idOf(alert)}`}>{alert.name}</a>
        <div class="muted">
          {condition.type} {condition.column ? `(${condition.column}) ` : ''}
          {condition.op} {String(condition.threshold)}
        </div>
      </td>
      <td>{alert.schedule}</td>
      <td>{alert.channels.length > 0 ? alert.channels.join(', ') : <span class="muted">inbox only</span>}</td>
      <td>{alert.enabled ? <Badge tone="ok">enabled</Badge> : <Badge>disabled</Badge>}</td>
      <td>
        {alert.last_status ? <Badge tone={statusTone(alert.last_status)}>{alert.last_status}</Badge> : '—'}
        {alert.last_error ? <div class="muted">{alert.last_error}</div> : null}
      </td>
      <td>{fmtDate(alert.last_fired_at)}</td>
      <td>
        <button
          type="button"
          class="secondary small"
          data-test-alert={alert.id}
          aria-label={`Test ${alert.name}`}
        >
          Test
        </button>{' '}
        <ApiForm
          csrf={ctx.csrfToken}
          api={`/api/alerts/${idOf(alert)}`}
          method="PATCH"
          class="inline"
          label={`${alert.enabled ? 'Disable' : 'Enable'} ${alert.name}`}
        >
          <input type="hidden" name="enabled" data-type="bool" value={alert.enabled ? 'false' : 'true'} />
          <button
            type="submit"
            class="secondary small"
            aria-label={`${alert.enabled ? 'Disable' : 'Enable'} ${alert.name}`}
          >
            {alert.enabled ? 'Disable' : 'Enable'}
          </button>
        </ApiForm>{' '}
        <ActionButton
          csrf={ctx.csrfToken}
          api={`/api/alerts/${idOf(alert)}`}
          method="DELETE"
          confirm={`Delete the alert "${alert.name}"?`}
          danger
          label={`Delete ${alert.name}`}
          text="Delete"
        />
      </td>
    </tr>
  );
}

/**
 * The create and edit form. Its fields nest (`condition`, `channels`), so the `alerts` browser
 * module sends it rather than the generic form script.
 */
function AlertForm(props: { ctx: PageContext; alert: SqlAlert | null; telegramLinked: boolean }) {
  const { alert } = props;
  const condition = alert?.condition;
  const channels = new Set(alert?.channels ?? ['websocket']);
  const textThreshold = typeof condition?.threshold === 'string';
  return (
    <form id="alert-form" class="card" aria-labelledby="alert-form-h" data-alert-id={alert?.id}>
      <h2 id="alert-form-h">{alert ? `Edit ${alert.name}` : 'New alert'}</h2>
      <label for="alert-name">Name</label>
      <input id="alert-name" name="name" type="text" required maxLength={100} value={alert?.name ?? ''} />
      <label for="alert-sql">SQL</label>
      <textarea id="alert-sql" name="sql" required spellcheck={false} maxLength={100_000}>
        {alert?.sql ?? ''}
      </textarea>
      <fieldset>
        <legend>Condition</legend>
        <div class="row">
          <div>
            <label for="alert-type">Type</label>
            <select id="alert-type" name="type">
              <Options values={CONDITION_TYPES} selected={condition?.type ?? 'row_count'} />
            </select>
          </div>
          <div class="shrink">
            <label for="alert-op">Operator</label>
            <select id="alert-op" name="op">
              <Options values={OPERATORS} selected={condition?.op ?? '>'} />
            </select>
          </div>
          <div>
            <label for="alert-threshold">Threshold</label>
            <input
              id="alert-threshold"
              name="threshold"
              type="text"
              required
              maxLength={1000}
              value={condition === undefined ? '0' : String(condition.threshold)}
            />
          </div>
          <div>
            <label for="alert-column">Column (first_value; default the first)</label>
            <input
              id="alert-column"
              name="column"
              type="text"
              maxLength={200}
              value={condition?.column ?? ''}
            />
          </div>
        </div>
        <label class="inline">
          <input type="checkbox" name="text_threshold" checked={textThreshold} /> Compare as text (== and !=
          only)
        </label>
      </fieldset>
      <label for="alert-message">Message template</label>
      <textarea
        id="alert-message"
        name="message_template"
        maxLength={2000}
        aria-describedby="alert-message-hint"
      >
        {alert?.message_template ?? '{{alert_name}}: {{value}}'}
      </textarea>
      <p id="alert-message-hint" class="muted">
        Placeholders: {'{{alert_name}}'}, {'{{row_count}}'}, {'{{value}}'} and {'{{<column>}}'} of the first
        row.
      </p>
      <div class="row">
        <div>
          <label for="alert-schedule">Schedule</label>
          <input
            id="alert-schedule"
            name="schedule"
            type="text"
            required
            maxLength={200}
            value={alert?.schedule ?? 'every 1h'}
            aria-describedby="alert-schedule-hint"
          />
        </div>
        <div class="shrink">
          <label for="alert-cooldown">Cooldown (minutes)</label>
          <input
            id="alert-cooldown"
            name="cooldown_minutes"
            type="number"
            min={0}
            max={10_080}
            required
            value={String(alert?.cooldown_minutes ?? 60)}
          />
        </div>
      </div>
      <p id="alert-schedule-hint" class="muted">
        every 15m, every 2h, daily 06:00,18:00, a cron line, or manual; at most every 5 minutes.
      </p>
      <fieldset>
        <legend>Channels (the inbox always)</legend>
        <label class="inline">
          <input type="checkbox" name="channel" value="websocket" checked={channels.has('websocket')} /> Web
          notifications
        </label>
        <label class="inline">
          <input
            type="checkbox"
            name="channel"
            value="telegram"
            checked={props.telegramLinked && channels.has('telegram')}
            disabled={!props.telegramLinked}
            aria-describedby={props.telegramLinked ? undefined : 'telegram-hint'}
          />{' '}
          Telegram
        </label>
        {props.telegramLinked ? null : (
          <p id="telegram-hint" class="muted">
            Link Telegram first (on your <a href="/account">account</a>) to choose it.
          </p>
        )}
      </fieldset>
      <button type="submit">{alert ? 'Save' : 'Create alert'}</button>
      {alert ? (
        <>
          {' '}
          <a href="/alerts">Cancel</a>
        </>
      ) : null}
      <FormStatus />
    </form>
  );
}

/** `/alerts` (09 §2 pages): the caller's SQL alerts, the create/edit form and the test result. */
export function AlertsPage(props: {
  ctx: PageContext;
  alerts: SqlAlert[];
  editing: SqlAlert | null;
  telegramLinked: boolean;
}) {
  const { ctx, alerts } = props;
  return (
    <Layout ctx={ctx} title="Alerts" scripts={['alerts']}>
      <h1>Alerts</h1>
      <section class="card" aria-labelledby="alerts-h">
        <h2 id="alerts-h">Your alerts</h2>
        {alerts.length === 0 ? (
          <p class="muted">
            No alerts yet. Create one below: a query, a condition on its result and a message.
          </p>
        ) : (
          <DataTable
            headings={['Alert', 'Schedule', 'Channels', 'State', 'Last status', 'Last fired', 'Actions']}
          >
            {alerts.map((alert) => (
              <AlertRow key={alert.id} ctx={ctx} alert={alert} />
            ))}
          </DataTable>
        )}
      </section>
      <section id="test-panel" class="card" aria-labelledby="test-h" hidden>
        <h2 id="test-h">Test result</h2>
        <p id="test-summary" role="status" aria-live="polite" />
        <div id="test-error" class="notice error" role="alert" hidden />
        <h3>Message</h3>
        <pre id="test-message" />
        <h3>Result preview</h3>
        <div id="test-preview" class="results table-wrap" />
      </section>
      <AlertForm ctx={ctx} alert={props.editing} telegramLinked={props.telegramLinked} />
    </Layout>
  );
}
