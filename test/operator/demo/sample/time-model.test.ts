import { describe, expect, it } from 'vitest';
import { csvMoney, csvText, csvTimestamp } from '../../../../src/operator/demo/sample/csv-cells.js';
import { customerId, orderItemId, visitorId } from '../../../../src/operator/demo/sample/ids.js';
import { createRng } from '../../../../src/operator/demo/sample/prng.js';
import { resolveSize } from '../../../../src/operator/demo/sample/sizes.js';
import {
  DAY_SECONDS,
  isoDay,
  parseIsoDay,
  TimeModel,
} from '../../../../src/operator/demo/sample/time-model.js';

describe('time model', () => {
  const end = parseIsoDay('2026-03-01');
  const time = new TimeModel(end, 12);

  it('spans months × 30 days before the (exclusive) end date', () => {
    expect(isoDay(time.startDay)).toBe('2025-03-06');
    const rng = createRng(42, 'window');
    const seconds = Array.from({ length: 20_000 }, () => time.pickSecond(rng));
    expect(Math.min(...seconds)).toBeGreaterThanOrEqual(time.startDay * DAY_SECONDS);
    expect(Math.max(...seconds)).toBeLessThan(end * DAY_SECONDS);
  });

  it('weights growth, seasonality, weekdays and the 10:00 peak', () => {
    const rng = createRng(42, 'weights');
    const byHour = new Array<number>(24).fill(0);
    const byWeekday = new Array<number>(7).fill(0);
    let firstHalf = 0;
    const middle = (time.startDay + time.endDay) / 2;
    for (let i = 0; i < 100_000; i++) {
      const second = time.pickSecond(rng);
      const day = Math.floor(second / DAY_SECONDS);
      byHour[Math.floor((second % DAY_SECONDS) / 3600)]! += 1;
      byWeekday[new Date(day * 86_400_000).getUTCDay()]! += 1;
      if (day < middle) firstHalf += 1;
    }
    expect(byHour.indexOf(Math.max(...byHour))).toBe(10);
    // Friday (1.15) busiest, Sunday (0.6) quietest.
    expect(byWeekday.indexOf(Math.max(...byWeekday))).toBe(5);
    expect(byWeekday.indexOf(Math.min(...byWeekday))).toBe(0);
    // Growth from 1.0 to 1.5 puts fewer events in the first half.
    expect(firstHalf / 100_000).toBeLessThan(0.48);
  });

  it('keeps follow-ups after their parent and inside the window', () => {
    const last = end * DAY_SECONDS - 1;
    expect(time.followUp(last - 100, 50)).toBe(last - 50);
    expect(time.followUp(last - 100, 5_000)).toBe(last);
    expect(time.followUp(last, 5_000)).toBe(last);
  });

  it('refuses what is not a calendar date', () => {
    expect(() => parseIsoDay('2026-02-30')).toThrow(/calendar date/);
    expect(() => parseIsoDay('2026-3-1')).toThrow(/calendar date/);
  });
});

describe('sizes', () => {
  it('scales the base counts, rounding and keeping at least one row', () => {
    expect(resolveSize('s', 1)).toEqual({
      counts: {
        customers: 500,
        products: 100,
        campaigns: 30,
        web_sessions: 10_000,
        web_leads: 1_000,
        orders: 2_000,
        support_tickets: 500,
      },
      months: 12,
    });
    expect(resolveSize('xs', 0.25).counts).toMatchObject({ customers: 13, products: 8, web_sessions: 125 });
    expect(Object.values(resolveSize('xs', 0.0001).counts)).toEqual([1, 1, 1, 1, 1, 1, 1]);
    expect(resolveSize('l', 1).months).toBe(36);
  });
});

describe('cells and ids', () => {
  it('formats values the way DuckDB reads them', () => {
    expect(csvMoney(123_405)).toBe('1234.05');
    expect(csvMoney(7)).toBe('0.07');
    expect(csvMoney(-250)).toBe('-2.50');
    expect(csvText('Acme, Inc.')).toBe('"Acme, Inc."');
    expect(csvText('27" Monitor')).toBe('"27"" Monitor"');
    expect(csvText(null)).toBe('');
    expect(csvTimestamp(parseIsoDay('2026-02-28') * DAY_SECONDS + 36_000 + 62)).toBe('2026-02-28 10:01:02');
  });

  it('pads ids to the documented widths', () => {
    expect(customerId(1)).toBe('C-000001');
    expect(customerId(1_234_567)).toBe('C-1234567');
    expect(orderItemId(42)).toBe('OI-00000042');
    expect(visitorId(0)).toMatch(/^V-[0-9a-f]{8}$/);
    expect(new Set(Array.from({ length: 10_000 }, (_, i) => visitorId(i))).size).toBe(10_000);
  });
});
