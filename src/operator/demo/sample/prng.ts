/**
 * The generator's only source of randomness: SplitMix64 expands a seed into the 128-bit state of
 * an sfc32 generator. Both are tiny, well studied and give the same sequence on every platform,
 * which is what byte-identical output needs (Math.random can be neither seeded nor reproduced).
 */

const MASK_64 = (1n << 64n) - 1n;
const GOLDEN_GAMMA = 0x9e3779b97f4a7c15n;
const TWO_POW_32 = 4294967296;

/** SplitMix64 (Steele, Lea, Flood 2014); used only to seed sfc32, so BigInt speed is no concern. */
export class SplitMix64 {
  private state: bigint;

  constructor(seed: bigint) {
    this.state = BigInt.asUintN(64, seed);
  }

  next(): bigint {
    this.state = (this.state + GOLDEN_GAMMA) & MASK_64;
    let z = this.state;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK_64;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK_64;
    return z ^ (z >> 31n);
  }
}

/** FNV-1a over the stream name, so each table draws from its own independent sequence. */
function hashStream(name: string): bigint {
  let hash = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(name)) {
    hash = ((hash ^ BigInt(byte)) * 0x100000001b3n) & MASK_64;
  }
  return hash;
}

/** sfc32 (Chris Doty-Humphrey's Small Fast Counting generator) on 32-bit integer arithmetic. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(a: number, b: number, c: number, d: number) {
    this.a = a | 0;
    this.b = b | 0;
    this.c = c | 0;
    this.d = d | 0;
    // The usual warm-up: the first outputs of a counter-based state are poorly mixed.
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1) with 32 bits of resolution, plenty for choosing among our value ranges. */
  float(): number {
    return this.nextUint32() / TWO_POW_32;
  }

  /** Uniform integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.float() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.float() < probability;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('cannot pick from an empty list');
    return items[Math.floor(this.float() * items.length)]!;
  }

  /** Fisher–Yates, in place. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.float() * (i + 1));
      const held = items[i]!;
      items[i] = items[j]!;
      items[j] = held;
    }
    return items;
  }
}

/** An independent generator for one named stream of one seed. */
export function createRng(seed: number, stream: string): Rng {
  const mix = new SplitMix64(BigInt(seed) ^ hashStream(stream));
  const first = mix.next();
  const second = mix.next();
  return new Rng(
    Number(first >> 32n),
    Number(first & 0xffffffffn),
    Number(second >> 32n),
    Number(second & 0xffffffffn),
  );
}
