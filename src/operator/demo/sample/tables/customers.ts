import { type GenerationContext, rngFor } from '../context.js';
import type { Country } from '../countries.js';
import { csvBool, csvDate, csvText } from '../csv-cells.js';
import type { CsvSink } from '../csv-sink.js';
import { appearanceDays, DatedPool } from '../dated-pool.js';
import { customerId } from '../ids.js';
import { COUNTRY_CHOICE, mailSlug, pickCity, pickName, privateEmail } from '../people.js';
import type { TableSpec } from '../table-spec.js';
import { paretoWeights, WeightedChoice } from '../weighted.js';
import { COMPANY_STEMS } from '../words.js';

export const CUSTOMERS: TableSpec = {
  name: 'customers',
  columns: {
    customer_id: 'VARCHAR',
    email: 'VARCHAR',
    first_name: 'VARCHAR',
    last_name: 'VARCHAR',
    company: 'VARCHAR',
    country: 'VARCHAR',
    city: 'VARCHAR',
    segment: 'VARCHAR',
    registration_date: 'DATE',
    is_active: 'BOOLEAN',
  },
};

const SEGMENT = WeightedChoice.of({ b2c: 0.6, b2b_small: 0.25, b2b_enterprise: 0.15 });

/** Share of customers who registered before the window opened. */
const PREEXISTING_SHARE = 0.3;

/** What later tables need to know about customers; index i is customer number i + 1. */
export interface Customers {
  /** Registration days and heavy-tailed activity weights. */
  pool: DatedPool;
  countries: Country[];
  emails: string[];
}

export async function writeCustomers(ctx: GenerationContext, sink: CsvSink): Promise<Customers> {
  const rng = rngFor(ctx, 'customers');
  const count = ctx.counts.customers;
  const days = appearanceDays(rng, ctx.time, count, PREEXISTING_SHARE);
  const pool = new DatedPool(days, paretoWeights(rngFor(ctx, 'customers.activity'), count));
  const countries: Country[] = [];
  const emails: string[] = [];
  const registry = new EmailRegistry();
  for (let i = 0; i < count; i++) {
    const name = pickName(rng);
    const country = COUNTRY_CHOICE.pick(rng);
    const segment = SEGMENT.pick(rng);
    const stem = segment === 'b2c' ? null : rng.pick(COMPANY_STEMS);
    const email = registry.claim(
      stem === null
        ? privateEmail(rng, name, country)
        : `${mailSlug(name.first)}.${mailSlug(name.last)}@${mailSlug(stem)}.${country.tld}`,
    );
    countries.push(country);
    emails.push(email);
    sink.row([
      customerId(i + 1),
      csvText(email),
      csvText(name.first),
      csvText(name.last),
      csvText(stem === null ? null : `${stem}${country.companySuffix}`),
      country.code,
      csvText(pickCity(rng, country)),
      segment,
      csvDate(days[i]!),
      csvBool(rng.chance(0.85)),
    ]);
    if (sink.full) await sink.flush();
  }
  return { pool, countries, emails };
}

/** Customers' addresses are unique, as a shop's login would demand: clashes get a number. */
class EmailRegistry {
  private readonly taken = new Set<string>();
  /** Next suffix to try per clashing address, so many clashes stay linear. */
  private readonly nextSuffix = new Map<string, number>();

  claim(email: string): string {
    let candidate = email;
    if (this.taken.has(email)) {
      const at = email.indexOf('@');
      let n = this.nextSuffix.get(email) ?? 2;
      do candidate = `${email.slice(0, at)}${n++}${email.slice(at)}`;
      while (this.taken.has(candidate));
      this.nextSuffix.set(email, n);
    }
    this.taken.add(candidate);
    return candidate;
  }
}
