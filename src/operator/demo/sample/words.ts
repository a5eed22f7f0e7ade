/** Bundled word lists: the generator depends on no data package and no network. */

/** `a | b | c` → `['a', 'b', 'c']`; keeps long lists compact and immune to reformatting. */
export function wordList(text: string): readonly string[] {
  return text
    .split('|')
    .map((word) => word.trim())
    .filter((word) => word !== '');
}

export const FIRST_NAMES = wordList(`
  Jan | Petr | Tomáš | Lucie | Tereza | Jakub | Anna | Eva | Martin | Kateřina | Lukas | Max | Sophie |
  Emma | Mia | Paul | Felix | Hannah | James | Olivia | Liam | Noah | Ava | Ethan | Charlotte | Oliver |
  Amelia | Harry | Louis | Camille | Léa | Hugo | Chloé | Jules | Piotr | Zofia | Kacper | Julia | Daan |
  Sanne | Lars | Sven | Elin | Astrid | Lucía | Pablo | Mateo | Giulia | Marco | Francesca | Alessandro |
  Martina | Zuzana | Marek | Barbora | Ondřej`);

export const LAST_NAMES = wordList(`
  Novák | Svoboda | Dvořák | Černý | Procházka | Kučera | Veselý | Horák | Müller | Schmidt | Schneider |
  Fischer | Weber | Wagner | Becker | Huber | Gruber | Smith | Johnson | Williams | Brown | Jones | Taylor |
  Wilson | Davies | O'Brien | Martin | Bernard | Dubois | Lefebvre | Moreau | Kowalski | Nowak | Wiśniewski |
  Wójcik | de Jong | Jansen | van Dijk | Bakker | Horváth | Kováč | Tóth | García | Fernández | López |
  Rossi | Russo | Bianchi | Andersson | Johansson | Karlsson | Nilsson`);

/** Company stems double as product brands. */
export const COMPANY_STEMS = wordList(`
  Acme | Nordwind | Blue Harbor | Silverline | Praxis | Vektor | Alpenglow | Brightpath | Cobalt | Danube |
  Everest | Fjord | Granite | Helix | Ironwood | Juniper | Keystone | Lumen | Meridian | Northstar |
  Oakridge | Pioneer | Quantum | Redwood | Summit | Tatra | Unity | Vertex | Westbrook | Zenith | Orbital |
  Polaris | Riverside | Sterling | Trident | Aurora | Beacon | Crescent | Delta | Evergreen`);

export const COLOURS = wordList(`
  Black | White | Grey | Navy | Red | Blue | Green | Olive | Beige | Charcoal | Burgundy | Teal | Sand |
  Silver`);

export const CAMPAIGN_THEMES = wordList(`
  Spring Sale | Summer Clearance | Back to School | Autumn Essentials | Black Friday | Cyber Monday |
  Christmas Gifts | New Year Deals | Brand Awareness | Loyalty Rewards | Product Launch | Flash Sale |
  Weekend Special | Free Shipping Week | Win-Back`);

/** Subjects of tickets about a specific order, per ticket category. */
export const ORDER_TICKET_SUBJECTS: Readonly<Record<string, readonly string[]>> = {
  shipping: wordList('Where is my order? | Parcel stuck in transit | Delivery to the wrong address'),
  damaged_item: wordList('Item arrived damaged | Broken box, product scratched | Missing parts'),
  return_request: wordList('How do I return an item? | Return label request | Wrong size, want to exchange'),
  refund: wordList('Refund not received yet | Partial refund question | Refund to a different card'),
  payment: wordList('Charged twice | Payment failed but money taken | Invoice needed for my order'),
};

/** Subjects of tickets not tied to an order, per ticket category. */
export const GENERAL_TICKET_SUBJECTS: Readonly<Record<string, readonly string[]>> = {
  account: wordList('Cannot log in | Change my e-mail address | Delete my account | Reset e-mail missing'),
  technical: wordList('Error at checkout | App crashes on start | Promo code not accepted'),
  product_question: wordList('Does it fit my "Pro" model? | Size guide question | Back in stock when?'),
  billing: wordList('VAT number on invoices | Update company billing details | Question about my invoice'),
};
