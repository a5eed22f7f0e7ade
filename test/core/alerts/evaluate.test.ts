import { describe, expect, it } from 'vitest';
import type { QueryResult } from '../../../src/contract/index.js';
import { compare, compareDecimals, parseDecimal } from '../../../src/core/alerts/condition.js';
import { evaluateResult } from '../../../src/core/alerts/evaluate.js';
import { isTooFrequentForAlert, shortestGapMinutes } from '../../../src/core/alerts/spacing.js';
import { MAX_MESSAGE_CHARS, renderMessage } from '../../../src/core/alerts/template.js';
import { parseSchedule } from '../../../src/core/schedule/schedule.js';

function result(columns: string[], types: string[], rows: unknown[][]): QueryResult {
  return {
    columns,
    column_types: types,
    rows,
    row_count: rows.length,
    truncated: false,
    truncated_reason: null,
    elapsed_ms: 1,
  };
}

const decimal = (text: string) => {
  const parsed = parseDecimal(text);
  if (!parsed) throw new Error(`not a decimal: ${text}`);
  return parsed;
};

describe('alert conditions (08 §7, §9)', () => {
  it('compares decimals exactly, beyond the precision of a double', () => {
    expect(
      compareDecimals(
        decimal('170141183460469231731687303715884105727'),
        decimal('170141183460469231731687303715884105726'),
      ),
    ).toBe(1);
    expect(compareDecimals(decimal('0.1000'), decimal('1e-1'))).toBe(0);
    expect(compareDecimals(decimal('-0.00'), decimal('0'))).toBe(0);
    expect(compareDecimals(decimal('-12.5'), decimal('-12.49'))).toBe(-1);
    expect(compareDecimals(decimal('1.7e38'), decimal('170000000000000000000000000000000000000'))).toBe(0);
    expect(compareDecimals(decimal('99.999999999999999999'), decimal('100'))).toBe(-1);
    expect(parseDecimal('NaN')).toBeNull();
    expect(parseDecimal('Infinity')).toBeNull();
    expect(parseDecimal('12abc')).toBeNull();
  });

  it('compares HUGEINT and DECIMAL strings numerically, other text only with == and !=', () => {
    expect(compare('170141183460469231731687303715884105727', 'HUGEINT', '>', 1e38)).toEqual({ holds: true });
    expect(compare('12.50', 'DECIMAL(10,2)', '==', 12.5)).toEqual({ holds: true });
    expect(compare('9', 'DECIMAL(4,0)', '<', 10)).toEqual({ holds: true });
    // Text that looks like a number is still text: "9" > 10 is not a question for a VARCHAR.
    expect(compare('9', 'VARCHAR', '<', 10)).toHaveProperty('error');
    expect(compare('open', 'VARCHAR', '==', 'open')).toEqual({ holds: true });
    expect(compare('open', 'VARCHAR', '!=', 'open')).toEqual({ holds: false });
    expect(compare(5, 'INTEGER', '==', '5')).toEqual({ holds: true });
    expect(compare(null, 'INTEGER', '!=', 5)).toEqual({ holds: false });
    expect(compare('NaN', 'DOUBLE', '>', 1)).toHaveProperty('error');
  });

  it('judges row_count and first_value; NULL and no rows never fire', () => {
    const alert = (condition: Record<string, unknown>) => ({
      name: 'n',
      condition: condition as never,
      message_template: '{{value}}/{{row_count}}',
    });
    const rows = result(
      ['a', 'b'],
      ['INTEGER', 'VARCHAR'],
      [
        [3, 'x'],
        [4, 'y'],
      ],
    );
    expect(evaluateResult(alert({ type: 'row_count', op: '>=', threshold: 2 }), rows)).toMatchObject({
      ok: true,
      fired: true,
      value: 2,
      message: '2/2',
    });
    expect(evaluateResult(alert({ type: 'first_value', op: '==', threshold: 3 }), rows)).toMatchObject({
      fired: true,
      value: 3,
    });
    expect(
      evaluateResult(alert({ type: 'first_value', op: '==', threshold: 'x', column: 'b' }), rows),
    ).toMatchObject({ fired: true, value: 'x' });
    expect(
      evaluateResult(alert({ type: 'first_value', op: '==', threshold: 1, column: 'zz' }), rows),
    ).toMatchObject({
      ok: false,
    });
    const empty = result(['a'], ['INTEGER'], []);
    expect(evaluateResult(alert({ type: 'first_value', op: '!=', threshold: 1 }), empty)).toMatchObject({
      fired: false,
      value: null,
    });
    const nulls = result(['a'], ['INTEGER'], [[null]]);
    expect(evaluateResult(alert({ type: 'first_value', op: '!=', threshold: 1 }), nulls)).toMatchObject({
      fired: false,
    });
  });
});

describe('alert message templates (08 §7)', () => {
  const values = {
    alert_name: 'Revenue',
    row_count: 3,
    value: '12.50',
    firstRow: new Map<string, unknown>([
      ['region', 'EU <b>'],
      ['alert_name', 'a column'],
      ['tags', ['a', 'b']],
      ['missing', null],
    ]),
  };

  it('fills the fixed names, first-row columns and nothing for unknown names', () => {
    expect(
      renderMessage(
        '{{alert_name}}: {{ value }} in {{region}} ({{row_count}} rows) {{tags}}{{missing}}{{nope}}!',
        values,
      ),
    ).toBe('Revenue: 12.50 in EU <b> (3 rows) ["a","b"]!');
  });

  it('cuts the result to 3,500 characters, never inside a code point', () => {
    const long = renderMessage(`${'é'.repeat(3_000)}{{region}}${'😀'.repeat(1_000)}`, values);
    expect(Array.from(long)).toHaveLength(MAX_MESSAGE_CHARS);
    expect(long.endsWith('😀')).toBe(true);
  });
});

describe('alert schedule spacing (08 §9)', () => {
  const gap = (text: string) => shortestGapMinutes(parseSchedule(text));

  it('finds the shortest gap of every, daily and cron schedules, across midnight too', () => {
    expect(gap('every 5m')).toBe(5);
    expect(gap('every 2h')).toBe(120);
    expect(gap('daily 06:00,18:00')).toBe(720);
    expect(gap('daily 23:58,00:01')).toBe(3);
    expect(gap('daily 06:00')).toBe(1440);
    expect(gap('*/5 * * * *')).toBe(5);
    expect(gap('*/3 9-17 * * 1-5')).toBe(3);
    expect(gap('1,58 0,23 * * *')).toBe(3);
    expect(gap('0 0 29 2 *')).toBe(1440);
    expect(gap('manual')).toBeNull();
  });

  it('counts the real gaps around clock changes of the scheduler time zone', () => {
    const from = new Date('2026-01-01T00:00:00Z');
    const inPrague = (text: string) => shortestGapMinutes(parseSchedule(text), 'Europe/Prague', from);
    // 01:58 CET and 03:00 CEST on 29 March 2026 are two minutes apart.
    expect(inPrague('daily 01:58,03:00')).toBe(2);
    expect(shortestGapMinutes(parseSchedule('daily 01:58,03:00'), 'UTC', from)).toBe(62);
    expect(inPrague('daily 06:00,18:00')).toBe(660);
    expect(isTooFrequentForAlert(parseSchedule('daily 01:58,03:00'), 'Europe/Prague', from)).toBe(true);
    expect(isTooFrequentForAlert(parseSchedule('daily 01:58,03:00'), 'UTC', from)).toBe(false);
    expect(isTooFrequentForAlert(parseSchedule('*/4 * * * *'), 'UTC', from)).toBe(true);
  });
});
