/** Business keys of 07 §2.4 tables: a prefix and a 1-based sequence number padded to a fixed width. */

function idFormat(prefix: string, width: number): (sequence: number) => string {
  const base = 10 ** width;
  // Adding `base` and dropping its leading 1 pads with zeros; cheaper than padStart on hot paths.
  return (sequence) => prefix + (sequence < base ? String(base + sequence).slice(1) : String(sequence));
}

export const customerId = idFormat('C-', 6);
export const productId = idFormat('P-', 5);
export const campaignId = idFormat('CMP-', 4);
export const sessionId = idFormat('S-', 8);
export const leadId = idFormat('L-', 6);
export const orderId = idFormat('ORD-', 7);
export const orderItemId = idFormat('OI-', 8);
export const paymentId = idFormat('PAY-', 7);
export const ticketId = idFormat('TKT-', 6);

/**
 * A bijection on 32-bit integers (the "lowbias32" integer hash), so ids derived from a sequence
 * look random yet can never collide.
 */
export function scramble32(value: number): number {
  let x = value >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

/** Visitor ids: one per customer (their index) and one per anonymous visitor (indices after them). */
export function visitorId(index: number): string {
  const x = scramble32(index);
  return `V-${HEX[x >>> 24]}${HEX[(x >>> 16) & 255]}${HEX[(x >>> 8) & 255]}${HEX[x & 255]}`;
}

/** Byte → two hex digits; Number#toString(16) is an order of magnitude slower. */
const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));
