import { describe, expect, it } from 'vitest';
import {
  metricConventions,
  ownerNames,
  tableTags,
  tagFqns,
  tagValues,
} from '../../../src/connectors/openmetadata/conventions.js';

const tags = (...fqns: string[]) =>
  fqns.map((tagFQN) => ({ tagFQN, labelType: 'Manual', source: 'Classification' }));

/** The tag conventions of 07 §6. */
describe('metricConventions', () => {
  it('reads category, grain, dimensions, type and unit from tags', () => {
    const facts = metricConventions({
      tags: tags(
        'MetricCategory.Sales',
        'Grain.Month',
        'Dimension.country',
        'Dimension.channel',
        'MetricType.Sum',
        'Unit.EUR',
      ),
      metricExpression: { language: 'SQL', code: 'SUM(total_amount)' },
    });
    expect(facts).toEqual({
      category: 'Sales',
      grain: 'month',
      dimensions: ['country', 'channel'],
      type: 'sum',
      unit: 'eur',
      expression: 'SUM(total_amount)',
    });
  });

  it('prefers the metric fields to tags for grain, type and unit', () => {
    const facts = metricConventions({
      granularity: 'DAY',
      metricType: 'COUNT',
      unitOfMeasurement: 'TRANSACTIONS',
      tags: tags('Grain.Month', 'MetricType.Sum', 'Unit.EUR', 'Category.Finance'),
    });
    expect(facts).toMatchObject({ category: 'Finance', grain: 'day', type: 'count', unit: 'transactions' });
  });

  it('falls back to the general category, and reads `.expression` when there is no code', () => {
    const facts = metricConventions({ metricExpression: { expression: 'count(*)' } });
    expect(facts).toEqual({
      category: 'general',
      grain: null,
      dimensions: [],
      type: null,
      unit: null,
      expression: 'count(*)',
    });
  });

  it('takes MetricCategory before Category, and unquotes values with dots', () => {
    expect(metricConventions({ tags: tags('Category.Other', 'MetricCategory."Sales.EU"') }).category).toBe(
      'Sales.EU',
    );
  });

  it('ignores tags and fields of the wrong shape', () => {
    const facts = metricConventions({
      tags: [null, 'Grain.Day', { tagFQN: 7 }, { tagFQN: 'Dimension.region' }],
      granularity: { value: 'DAY' },
      metricExpression: 'SUM(x)',
    });
    expect(facts).toEqual({
      category: 'general',
      grain: null,
      dimensions: ['region'],
      type: null,
      unit: null,
      expression: null,
    });
  });
});

describe('table tags, owners and tag values', () => {
  it('splits the tier from the other tags', () => {
    expect(tableTags(tags('PII.Sensitive', 'Tier.Tier1', 'Domain.Sales'))).toEqual({
      tags: ['PII.Sensitive', 'Domain.Sales'],
      tier: 'Tier1',
    });
    expect(tableTags(undefined)).toEqual({ tags: [], tier: null });
  });

  it('names owners by display name, else name, without duplicates or empties', () => {
    expect(
      ownerNames([
        { type: 'team', name: 'sales', displayName: 'Sales Team' },
        { type: 'user', name: 'jane.doe' },
        { type: 'user', name: 'jane.doe' },
        { type: 'user' },
        'nobody',
      ]),
    ).toEqual(['Sales Team', 'jane.doe']);
  });

  it('matches classification names without case and skips empty values', () => {
    const fqns = tagFqns(tags('grain.Week', 'Grain.', 'Granularity.Day'));
    expect(tagValues(fqns, ['Grain'])).toEqual(['Week']);
  });
});
