import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { noteReceived, SCAVENGE_BYTES } from '../../../src/core/uploads/scavenge.js';

const MiB = 1024 * 1024;
const CHUNK = 64 * 1024;

/** Peak ArrayBuffer memory while `total` bytes arrive as 64 KiB buffers that die at once, like body chunks. */
function peakWhileReceiving(total: number, note: (bytes: number) => void): number {
  const before = process.memoryUsage().arrayBuffers;
  let peak = 0;
  for (let received = 0; received < total; received += CHUNK) {
    const chunk = Buffer.allocUnsafeSlow(CHUNK).fill(0x61);
    note(chunk.length);
    if (received % MiB === 0) peak = Math.max(peak, process.memoryUsage().arrayBuffers - before);
  }
  return peak;
}

describe('scavenging while an upload streams in', () => {
  it('keeps the dead chunk copies of a 48 MiB body near the scavenge interval, not the body size', () => {
    const peak = peakWhileReceiving(48 * MiB, noteReceived);
    expect(peak).toBeLessThan(3 * SCAVENGE_BYTES);
  });

  it('exposes gc to no context created afterwards (script sandboxes included)', () => {
    noteReceived(SCAVENGE_BYTES);
    expect(runInNewContext('typeof gc')).toBe('undefined');
    expect(typeof (globalThis as { gc?: unknown }).gc).toBe('undefined');
  });
});
