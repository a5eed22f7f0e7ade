import { wordList } from './words.js';

/** The 12 customer countries of 07 §2.4 tables with their weights, cities and naming conventions. */

export interface Country {
  code: string;
  weight: number;
  /** Largest first: the draw favours the front of the list. */
  cities: readonly string[];
  /** Appended to a company stem, separator included (`, Inc.` exercises CSV quoting). */
  companySuffix: string;
  /** Top-level domain for business e-mail addresses. */
  tld: string;
  freeMailDomains: readonly string[];
}

export const COUNTRIES: readonly Country[] = [
  {
    code: 'CZ',
    weight: 0.25,
    cities: wordList(`
      Praha | Brno | Ostrava | Plzeň | Liberec | Olomouc | České Budějovice | Hradec Králové`),
    companySuffix: ' s.r.o.',
    tld: 'cz',
    freeMailDomains: ['seznam.cz', 'email.cz', 'gmail.com', 'centrum.cz'],
  },
  {
    code: 'DE',
    weight: 0.15,
    cities: wordList(`
      Berlin | Hamburg | München | Köln | Frankfurt am Main | Stuttgart | Düsseldorf | Leipzig`),
    companySuffix: ' GmbH',
    tld: 'de',
    freeMailDomains: ['gmx.de', 'web.de', 'gmail.com', 't-online.de'],
  },
  {
    code: 'US',
    weight: 0.12,
    cities: wordList('New York | Los Angeles | Chicago | Houston | Phoenix | Seattle | Boston | Austin'),
    companySuffix: ', Inc.',
    tld: 'com',
    freeMailDomains: ['gmail.com', 'yahoo.com', 'outlook.com', 'icloud.com'],
  },
  {
    code: 'GB',
    weight: 0.1,
    cities: wordList('London | Manchester | Birmingham | Leeds | Glasgow | Bristol | Edinburgh | Liverpool'),
    companySuffix: ' Ltd',
    tld: 'co.uk',
    freeMailDomains: ['gmail.com', 'outlook.com', 'btinternet.com', 'yahoo.co.uk'],
  },
  {
    code: 'FR',
    weight: 0.08,
    cities: wordList('Paris | Lyon | Marseille | Toulouse | Nice | Nantes | Bordeaux | Lille'),
    companySuffix: ' SAS',
    tld: 'fr',
    freeMailDomains: ['orange.fr', 'gmail.com', 'free.fr', 'laposte.net'],
  },
  {
    code: 'AT',
    weight: 0.05,
    cities: wordList('Wien | Graz | Linz | Salzburg | Innsbruck | Klagenfurt'),
    companySuffix: ' GmbH',
    tld: 'at',
    freeMailDomains: ['gmx.at', 'gmail.com', 'aon.at'],
  },
  {
    code: 'PL',
    weight: 0.05,
    cities: wordList('Warszawa | Kraków | Łódź | Wrocław | Poznań | Gdańsk'),
    companySuffix: ' Sp. z o.o.',
    tld: 'pl',
    freeMailDomains: ['wp.pl', 'onet.pl', 'gmail.com', 'interia.pl'],
  },
  {
    code: 'NL',
    weight: 0.05,
    cities: wordList('Amsterdam | Rotterdam | Den Haag | Utrecht | Eindhoven | Groningen'),
    companySuffix: ' B.V.',
    tld: 'nl',
    freeMailDomains: ['gmail.com', 'ziggo.nl', 'kpnmail.nl', 'outlook.com'],
  },
  {
    code: 'SK',
    weight: 0.05,
    cities: wordList('Bratislava | Košice | Prešov | Žilina | Nitra | Banská Bystrica'),
    companySuffix: ' s.r.o.',
    tld: 'sk',
    freeMailDomains: ['azet.sk', 'gmail.com', 'centrum.sk'],
  },
  {
    code: 'ES',
    weight: 0.04,
    cities: wordList('Madrid | Barcelona | Valencia | Sevilla | Zaragoza | Málaga'),
    companySuffix: ' S.L.',
    tld: 'es',
    freeMailDomains: ['gmail.com', 'hotmail.es', 'yahoo.es'],
  },
  {
    code: 'IT',
    weight: 0.03,
    cities: wordList('Roma | Milano | Napoli | Torino | Bologna | Firenze'),
    companySuffix: ' S.r.l.',
    tld: 'it',
    freeMailDomains: ['libero.it', 'gmail.com', 'virgilio.it'],
  },
  {
    code: 'SE',
    weight: 0.03,
    cities: wordList('Stockholm | Göteborg | Malmö | Uppsala | Västerås | Örebro'),
    companySuffix: ' AB',
    tld: 'se',
    freeMailDomains: ['gmail.com', 'telia.com', 'hotmail.se'],
  },
];
