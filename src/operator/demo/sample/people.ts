import { COUNTRIES, type Country } from './countries.js';
import type { Rng } from './prng.js';
import { WeightedChoice } from './weighted.js';
import { FIRST_NAMES, LAST_NAMES } from './words.js';

/** Draws shared by customers, sessions and leads: countries, cities, names and e-mail addresses. */

export const COUNTRY_CHOICE = new WeightedChoice(
  COUNTRIES,
  COUNTRIES.map((country) => country.weight),
);

/** Cities weighted 1, 1/2, 1/3…: the capital and big cities dominate. */
const CITY_CHOICES = new Map(
  COUNTRIES.map((country) => [
    country.code,
    new WeightedChoice(
      country.cities,
      country.cities.map((_, rank) => 1 / (rank + 1)),
    ),
  ]),
);

export function pickCity(rng: Rng, country: Country): string {
  return CITY_CHOICES.get(country.code)!.pick(rng);
}

const NON_ASCII_LETTERS: Readonly<Record<string, string>> = { ł: 'l', Ł: 'l', ø: 'o', ß: 'ss' };

/** `Wiśniewski` → `wisniewski`, `O'Brien` → `obrien`: the local part of an address. */
export function mailSlug(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .replace(/[łŁøß]/g, (letter) => NON_ASCII_LETTERS[letter] ?? '')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');
}

export interface PersonName {
  first: string;
  last: string;
}

export function pickName(rng: Rng): PersonName {
  return { first: rng.pick(FIRST_NAMES), last: rng.pick(LAST_NAMES) };
}

/** A private address at one of the country's free-mail providers. */
export function privateEmail(rng: Rng, name: PersonName, country: Country): string {
  const style = rng.int(0, 2);
  const first = mailSlug(name.first);
  const last = mailSlug(name.last);
  const local =
    style === 0 ? `${first}.${last}` : style === 1 ? `${first[0]}${last}` : `${first}${rng.int(1, 99)}`;
  return `${local}@${rng.pick(country.freeMailDomains)}`;
}
