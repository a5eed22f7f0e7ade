import {
  arrayFromArrayValue,
  arrayFromListValue,
  createDuckDBValueConverter,
  type DuckDBBlobValue,
  type DuckDBDateValue,
  type DuckDBDecimalValue,
  type DuckDBIntervalValue,
  type DuckDBTimeNSValue,
  type DuckDBTimestampMillisecondsValue,
  type DuckDBTimestampNanosecondsValue,
  type DuckDBTimestampSecondsValue,
  type DuckDBTimestampTZValue,
  type DuckDBTimestampValue,
  type DuckDBTimeValue,
  DuckDBTypeId,
  type DuckDBValue,
  type DuckDBValueConverter,
  fromVariantValue,
  objectArrayFromMapValue,
  objectFromStructValue,
  objectFromUnionValue,
} from '@duckdb/node-api';

/**
 * Result values as JSON (05 §6): exact where JSON numbers are not (BIGINT beyond ±(2^53 − 1),
 * HUGEINT, DECIMAL as decimal strings), ISO 8601 for dates, times and intervals, base64 for BLOB,
 * nested types recursively. The same encoding serves the query result, NDJSON and CSV.
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MICROS_PER_SECOND = 1_000_000n;

function floatNumber(value: number): number | string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return 'Infinity';
  if (value === Number.NEGATIVE_INFINITY) return '-Infinity';
  return value;
}

/** A FLOAT as its shortest decimal that reads back as the same float (0.1, not 0.100000001…). */
function float32(value: number): number | string {
  if (!Number.isFinite(value)) return floatNumber(value);
  for (let digits = 1; digits <= 9; digits++) {
    const candidate = Number(value.toPrecision(digits));
    if (Math.fround(candidate) === value) return candidate;
  }
  return value;
}

function bigintNumber(value: DuckDBValue): number | string {
  const big = value as bigint;
  return big <= MAX_SAFE && big >= -MAX_SAFE ? Number(big) : big.toString();
}

const pad = (value: bigint | number, width: number) => String(value).padStart(width, '0');

/** `.ffffff` (or nine digits for nanoseconds) when there is a fraction. */
function fraction(units: bigint, digits: number): string {
  return units === 0n ? '' : `.${pad(units, digits)}`;
}

/** Seconds since the epoch plus a sub-second part, as `YYYY-MM-DDTHH:MM:SS[.f]`, or null out of range. */
function dateTime(seconds: bigint, subsecond: bigint, digits: number): string | null {
  const date = new Date(Number(seconds) * 1000);
  if (Number.isNaN(date.getTime())) return null;
  return `${date.toISOString().slice(0, -5)}${fraction(subsecond, digits)}`;
}

function splitUnits(value: bigint, perSecond: bigint): [bigint, bigint] {
  let seconds = value / perSecond;
  let rest = value % perSecond;
  if (rest < 0n) {
    rest += perSecond;
    seconds -= 1n;
  }
  return [seconds, rest];
}

function timestampText(
  units: bigint,
  perSecond: bigint,
  digits: number,
  finite: boolean,
  zone: boolean,
): string {
  if (!finite) return units > 0n ? 'infinity' : '-infinity';
  const [seconds, rest] = splitUnits(units, perSecond);
  const text = dateTime(seconds, rest, digits);
  if (text === null) return String(units);
  return zone ? `${text}Z` : text;
}

function dateText(value: DuckDBValue): string {
  const date = value as DuckDBDateValue;
  if (!date.isFinite) return date.days > 0 ? 'infinity' : '-infinity';
  const text = new Date(date.days * 86_400_000);
  return Number.isNaN(text.getTime()) ? date.toString() : text.toISOString().slice(0, 10);
}

function timeText(micros: bigint, perSecond: bigint, digits: number): string {
  const [seconds, rest] = splitUnits(micros, perSecond);
  const h = seconds / 3600n;
  const m = (seconds / 60n) % 60n;
  const s = seconds % 60n;
  return `${pad(h, 2)}:${pad(m, 2)}:${pad(s, 2)}${fraction(rest, digits)}`;
}

/** ISO 8601 duration (`P1DT2H`); components keep their own sign as DuckDB stores them. */
export function isoDuration(interval: { months: number; days: number; micros: bigint }): string {
  const years = Math.trunc(interval.months / 12);
  const months = interval.months % 12;
  let date = '';
  if (years) date += `${years}Y`;
  if (months) date += `${months}M`;
  if (interval.days) date += `${interval.days}D`;
  const micros = interval.micros;
  const negative = micros < 0n;
  const abs = negative ? -micros : micros;
  const hours = abs / 3_600_000_000n;
  const minutes = (abs / 60_000_000n) % 60n;
  const wholeSeconds = (abs / MICROS_PER_SECOND) % 60n;
  const rest = abs % MICROS_PER_SECOND;
  const sign = negative ? '-' : '';
  let time = '';
  if (hours) time += `${sign}${hours}H`;
  if (minutes) time += `${sign}${minutes}M`;
  if (wholeSeconds || rest) {
    const frac = rest ? `.${pad(rest, 6).replace(/0+$/, '')}` : '';
    time += `${sign}${wholeSeconds}${frac}S`;
  }
  if (!date && !time) return 'PT0S';
  return `P${date}${time ? `T${time}` : ''}`;
}

const text = (value: DuckDBValue) => String(value);

const CONVERTERS: Record<DuckDBTypeId, DuckDBValueConverter<JsonValue> | undefined> = {
  [DuckDBTypeId.INVALID]: undefined,
  [DuckDBTypeId.BOOLEAN]: (value) => value as boolean,
  [DuckDBTypeId.TINYINT]: (value) => value as number,
  [DuckDBTypeId.SMALLINT]: (value) => value as number,
  [DuckDBTypeId.INTEGER]: (value) => value as number,
  [DuckDBTypeId.UTINYINT]: (value) => value as number,
  [DuckDBTypeId.USMALLINT]: (value) => value as number,
  [DuckDBTypeId.UINTEGER]: (value) => value as number,
  [DuckDBTypeId.BIGINT]: bigintNumber,
  [DuckDBTypeId.UBIGINT]: bigintNumber,
  [DuckDBTypeId.HUGEINT]: text,
  [DuckDBTypeId.UHUGEINT]: text,
  [DuckDBTypeId.BIGNUM]: text,
  [DuckDBTypeId.FLOAT]: (value) => float32(value as number),
  [DuckDBTypeId.DOUBLE]: (value) => floatNumber(value as number),
  [DuckDBTypeId.DECIMAL]: (value) => (value as DuckDBDecimalValue).toString(),
  [DuckDBTypeId.VARCHAR]: text,
  [DuckDBTypeId.ENUM]: text,
  [DuckDBTypeId.UUID]: text,
  [DuckDBTypeId.BIT]: text,
  [DuckDBTypeId.GEOMETRY]: text,
  [DuckDBTypeId.BLOB]: (value) => Buffer.from((value as DuckDBBlobValue).bytes).toString('base64'),
  [DuckDBTypeId.DATE]: dateText,
  [DuckDBTypeId.TIME]: (value) => timeText((value as DuckDBTimeValue).micros, MICROS_PER_SECOND, 6),
  [DuckDBTypeId.TIME_NS]: (value) => timeText((value as DuckDBTimeNSValue).nanos, 1_000_000_000n, 9),
  [DuckDBTypeId.TIME_TZ]: text,
  [DuckDBTypeId.TIMESTAMP]: (value) => {
    const ts = value as DuckDBTimestampValue;
    return timestampText(ts.micros, MICROS_PER_SECOND, 6, ts.isFinite, false);
  },
  [DuckDBTypeId.TIMESTAMP_S]: (value) => {
    const ts = value as DuckDBTimestampSecondsValue;
    return timestampText(ts.seconds, 1n, 0, ts.isFinite, false);
  },
  [DuckDBTypeId.TIMESTAMP_MS]: (value) => {
    const ts = value as DuckDBTimestampMillisecondsValue;
    return timestampText(ts.millis * 1000n, MICROS_PER_SECOND, 6, ts.isFinite, false);
  },
  [DuckDBTypeId.TIMESTAMP_NS]: (value) => {
    const ts = value as DuckDBTimestampNanosecondsValue;
    return timestampText(ts.nanos, 1_000_000_000n, 9, ts.isFinite, false);
  },
  [DuckDBTypeId.TIMESTAMP_TZ]: (value) => {
    const ts = value as DuckDBTimestampTZValue;
    return timestampText(ts.micros, MICROS_PER_SECOND, 6, ts.isFinite, true);
  },
  [DuckDBTypeId.INTERVAL]: (value) => isoDuration(value as DuckDBIntervalValue),
  [DuckDBTypeId.LIST]: arrayFromListValue,
  [DuckDBTypeId.ARRAY]: arrayFromArrayValue,
  [DuckDBTypeId.STRUCT]: objectFromStructValue,
  [DuckDBTypeId.MAP]: objectArrayFromMapValue as DuckDBValueConverter<JsonValue>,
  [DuckDBTypeId.UNION]: objectFromUnionValue as DuckDBValueConverter<JsonValue>,
  [DuckDBTypeId.VARIANT]: fromVariantValue,
  [DuckDBTypeId.SQLNULL]: () => null,
  [DuckDBTypeId.ANY]: text,
  [DuckDBTypeId.STRING_LITERAL]: text,
  [DuckDBTypeId.INTEGER_LITERAL]: text,
};

/** Converts one DuckDB value of the given type (recursing into nested types). */
export const encodeValue: DuckDBValueConverter<JsonValue> = createDuckDBValueConverter(CONVERTERS);
