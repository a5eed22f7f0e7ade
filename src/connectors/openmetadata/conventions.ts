import { codeText, labelText } from './text.js';

/**
 * The tag conventions of 07 §6: how OpenMetadata tags and metric fields map to the catalog's
 * metric facts and a table's tier. Pure functions over untrusted JSON: anything of the wrong
 * shape is ignored.
 */

export const MAX_EXPRESSION_CHARS = 10_000;

/** The tag FQNs of a `tags` array (`[{tagFQN}]`), cleaned, without duplicates. */
export function tagFqns(tags: unknown): string[] {
  if (!Array.isArray(tags)) return [];
  const fqns = tags
    .map((tag) => labelText((tag as { tagFQN?: unknown } | null)?.tagFQN))
    .filter((fqn) => fqn !== '');
  return [...new Set(fqns)];
}

/**
 * The value of a tag in one of the classifications: `Grain.Day` → `Day`. The value may be quoted
 * when it holds a dot (`Category."Sales.EU"`). Classification names match without case.
 */
export function tagValues(fqns: readonly string[], classifications: readonly string[]): string[] {
  const prefixes = classifications.map((c) => `${c.toLowerCase()}.`);
  const values: string[] = [];
  for (const fqn of fqns) {
    const prefix = prefixes.find((p) => fqn.toLowerCase().startsWith(p));
    if (!prefix) continue;
    const value = fqn
      .slice(prefix.length)
      .replace(/^"(.*)"$/, '$1')
      .trim();
    if (value !== '') values.push(value);
  }
  return values;
}

const fieldValue = (value: unknown): string | null => {
  const text = labelText(value);
  return text === '' ? null : text;
};

const lower = (value: string | null | undefined): string | null => (value ? value.toLowerCase() : null);

export interface MetricConventions {
  category: string;
  grain: string | null;
  dimensions: string[];
  type: string | null;
  unit: string | null;
  expression: string | null;
}

/**
 * A metric's facts: category from `MetricCategory.X` or `Category.X` (else `general`), grain from
 * `granularity` or `Grain.X`, dimensions from `Dimension.X`, type from `metricType` or
 * `MetricType.X`, unit from `unitOfMeasurement` or `Unit.X`, expression from
 * `metricExpression.code` or `.expression`. Grain, type and unit are lower-case, as in
 * hand-written metric files.
 */
export function metricConventions(metric: Record<string, unknown>): MetricConventions {
  const fqns = tagFqns(metric.tags);
  // The first classification with a value wins, whatever the order of the tags.
  const first = (...classifications: string[]) =>
    classifications.map((c) => tagValues(fqns, [c])[0]).find((v) => v !== undefined) ?? null;
  const expression = metric.metricExpression as { code?: unknown; expression?: unknown } | null | undefined;
  const code = [expression?.code, expression?.expression].find(
    (value): value is string => typeof value === 'string' && value.trim() !== '',
  );
  return {
    category: first('MetricCategory', 'Category') ?? 'general',
    grain: lower(fieldValue(metric.granularity) ?? first('Grain')),
    dimensions: [...new Set(tagValues(fqns, ['Dimension']))],
    type: lower(fieldValue(metric.metricType) ?? first('MetricType')),
    unit: lower(fieldValue(metric.unitOfMeasurement) ?? first('Unit')),
    expression: code === undefined ? null : codeText(code, MAX_EXPRESSION_CHARS),
  };
}

/** A table's tags split into its tier (`Tier.Tier1` → `Tier1`) and the other tags. */
export function tableTags(tags: unknown): { tags: string[]; tier: string | null } {
  const fqns = tagFqns(tags);
  const tier = tagValues(fqns, ['Tier'])[0] ?? null;
  return { tags: fqns.filter((fqn) => !fqn.toLowerCase().startsWith('tier.')), tier };
}

/** Owners (`[{displayName, name}]`) as names to show. */
export function ownerNames(owners: unknown): string[] {
  if (!Array.isArray(owners)) return [];
  const names = owners
    .map((owner) => {
      const o = (owner ?? {}) as { displayName?: unknown; name?: unknown };
      return labelText(o.displayName) || labelText(o.name);
    })
    .filter((name) => name !== '');
  return [...new Set(names)];
}
