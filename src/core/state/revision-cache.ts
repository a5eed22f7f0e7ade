/**
 * Values derived from the state store, each kept with the revision (`RevisionsRepository`) it was
 * read at and served only while that revision is current. Bounded: the oldest entry goes first.
 */
export class RevisionCache<V> {
  readonly #entries = new Map<string, { revision: number; value: V }>();
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  get(key: string, revision: number): V | undefined {
    const entry = this.#entries.get(key);
    return entry?.revision === revision ? entry.value : undefined;
  }

  /** `revision` must have been read before `value`: a value newer than its revision is safe, an older one is not. */
  set(key: string, revision: number, value: V): void {
    this.#entries.delete(key);
    if (this.#entries.size >= this.#max) this.#entries.delete(this.#entries.keys().next().value as string);
    this.#entries.set(key, { revision, value });
  }
}
