/** The line that ends a stream cut at its cap (08 §9 scripts). */
export const TRUNCATED_LINE = '[truncated]';

/**
 * One output stream of a script, kept up to a number of bytes (08 §6 limits). What comes after the
 * cap is still read, and dropped, so a chatty script never blocks on a full pipe.
 */
export class CappedOutput {
  readonly #limit: number;
  readonly #chunks: Buffer[] = [];
  #kept = 0;
  #truncated = false;

  constructor(limitBytes: number) {
    this.#limit = limitBytes;
  }

  get truncated(): boolean {
    return this.#truncated;
  }

  push(chunk: Buffer): void {
    const room = this.#limit - this.#kept;
    if (chunk.length > room) this.#truncated = true;
    if (room <= 0) return;
    const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.#chunks.push(kept);
    this.#kept += kept.length;
  }

  /** The kept bytes as UTF-8 (a character cut at the cap becomes U+FFFD), ending with the marker line when cut. */
  text(): string {
    const body = Buffer.concat(this.#chunks).toString('utf8');
    if (!this.#truncated) return body;
    return `${body}${body === '' || body.endsWith('\n') ? '' : '\n'}${TRUNCATED_LINE}`;
  }
}
