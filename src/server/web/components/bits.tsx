import type { ComponentChildren } from 'preact';
import { CsrfField, FormStatus } from './layout.js';

/** Small shared pieces of the pages: number and date formatting, badges, charts, API forms. */

export function fmtNum(value: number | null | undefined): string {
  return value === null || value === undefined ? '—' : value.toLocaleString('en-US');
}

export function fmtDate(value: string | null | undefined): string {
  if (!value) return '—';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export function fmtBytes(value: number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let size = value;
  let unit = 0;
  while (size >= 1024 && unit < units.length - 1) {
    size /= 1024;
    unit += 1;
  }
  return `${size.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

export type Tone = 'ok' | 'warn' | 'err' | undefined;

/** A definition list of label/value pairs, the pages' fact boxes. */
export function Facts(props: { facts: readonly (readonly [string, string])[] }) {
  return (
    <dl class="facts">
      {props.facts.map(([k, v]) => (
        <div key={k}>
          <dt class="muted">{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

export function Badge(props: { tone?: Tone; children: ComponentChildren }) {
  return <span class={props.tone ? `badge ${props.tone}` : 'badge'}>{props.children}</span>;
}

export function statusTone(status: string): Tone {
  if (['ok', 'success', 'approved', 'completed', 'succeeded'].includes(status)) return 'ok';
  if (['error', 'failed', 'denied', 'interrupted'].includes(status)) return 'err';
  if (['pending', 'queued', 'running', 'partial', 'stale'].includes(status)) return 'warn';
  return undefined;
}

/** A column heading of a `DataTable`: numeric columns align right; `quiet` ones are muted. */
export type Heading = string | { label: string; num?: boolean; quiet?: boolean };

/** A scrollable data table with `<th scope="col">` headings; rows come as children. */
export function DataTable(props: { headings: Heading[]; compact?: boolean; children: ComponentChildren }) {
  return (
    <div class="table-wrap">
      <table class={props.compact ? 'compact' : undefined}>
        <thead>
          <tr>
            {props.headings.map((heading) => {
              const h = typeof heading === 'string' ? { label: heading } : heading;
              return (
                <th key={h.label} scope="col" class={h.num ? 'num' : undefined}>
                  {h.quiet ? <span class="muted">{h.label}</span> : h.label}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>{props.children}</tbody>
      </table>
    </div>
  );
}

/** The `<option>`s of a list of values, one of them optionally selected. */
export function Options(props: { values: readonly string[]; selected?: string }) {
  return (
    <>
      {props.values.map((value) => (
        <option key={value} value={value} selected={value === props.selected}>
          {value}
        </option>
      ))}
    </>
  );
}

/** A labelled `<select>` whose first, empty choice means "no restriction" (filters, "all sources"). */
export function ChoiceSelect(props: {
  id: string;
  name: string;
  label: string;
  anyLabel: string;
  values: readonly string[];
  selected?: string;
}) {
  return (
    <>
      <label for={props.id}>{props.label}</label>
      <select id={props.id} name={props.name}>
        <option value="">{props.anyLabel}</option>
        <Options values={props.values} selected={props.selected} />
      </select>
    </>
  );
}

/** A bar chart drawn on the server as inline SVG (09 §1 rules common to all pages); labels go into `<title>` for screen readers. */
export function Histogram(props: { labels: string[]; counts: number[]; label: string }) {
  const width = 320;
  const height = 80;
  const max = Math.max(1, ...props.counts);
  const step = width / Math.max(1, props.counts.length);
  return (
    <svg
      class="hist"
      viewBox={`0 0 ${width} ${height}`}
      width={width}
      height={height}
      role="img"
      aria-label={props.label}
    >
      {props.counts.map((count, i) => {
        const h = Math.max(count > 0 ? 1 : 0, Math.round((count / max) * (height - 2)));
        return (
          <rect key={i} x={i * step + 1} y={height - h} width={Math.max(1, step - 2)} height={h}>
            <title>{`${props.labels[i] ?? ''}: ${count}`}</title>
          </rect>
        );
      })}
    </svg>
  );
}

/** A completeness bar: SVG attributes, since the CSP allows no inline styles. */
export function PercentBar(props: { pct: number; label: string }) {
  const width = Math.round(Math.min(100, Math.max(0, props.pct)));
  return (
    <svg class="pct" viewBox="0 0 100 8" width={100} height={8} role="img" aria-label={props.label}>
      <rect class="track" x={0} y={0} width={100} height={8} />
      <rect class="fill" x={0} y={0} width={width} height={8} />
    </svg>
  );
}

/**
 * A form that the `forms` browser module sends to a JSON API with the CSRF header (09 §1 rules common to all pages). Fields
 * are sent by name; `data-type` on a field converts it (int, bool, list). After success the page
 * reloads unless `show` names a response field to reveal once (e.g. a new token).
 */
export function ApiForm(props: {
  csrf: string;
  api: string;
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  confirm?: string;
  show?: string;
  poll?: boolean;
  /** Send the fields as the query string (routes such as rebuild take no body). */
  query?: boolean;
  next?: string;
  class?: string;
  label?: string;
  children: ComponentChildren;
}) {
  return (
    <form
      class={props.class}
      data-api={props.api}
      data-method={props.method ?? 'POST'}
      data-confirm={props.confirm}
      data-show={props.show}
      data-poll={props.poll ? 'jobs' : undefined}
      data-query={props.query ? '' : undefined}
      data-next={props.next}
      aria-label={props.label}
    >
      <CsrfField token={props.csrf} />
      {props.children}
      <FormStatus />
    </form>
  );
}

/** A one-button API form (approve, revoke, delete...). */
export function ActionButton(props: {
  csrf: string;
  api: string;
  method?: 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  confirm?: string;
  danger?: boolean;
  label: string;
  text: string;
}) {
  return (
    <ApiForm csrf={props.csrf} api={props.api} method={props.method} confirm={props.confirm} class="inline">
      <button
        type="submit"
        class={props.danger ? 'danger small' : 'secondary small'}
        aria-label={props.label}
      >
        {props.text}
      </button>
    </ApiForm>
  );
}

/** A copyable command or value. */
export function Copyable(props: { id: string; text: string }) {
  return (
    <div class="row">
      <pre id={props.id}>{props.text}</pre>
      <button
        type="button"
        class="secondary small shrink"
        data-copy={props.id}
        aria-label="Copy to clipboard"
      >
        Copy
      </button>
    </div>
  );
}
