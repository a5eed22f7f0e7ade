import { describe, expect, it } from 'vitest';
import { KeyedSequencer } from '../../../src/services/telegram-bot/sequencer.js';

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, opened };
}

describe('KeyedSequencer', () => {
  it("runs one key's tasks in order while another key runs past a blocked one", async () => {
    const order: string[] = [];
    const errors: unknown[] = [];
    const sequencer = new KeyedSequencer<number>((error) => errors.push(error));
    const blocked = gate();
    sequencer.submit(1, async () => {
      await blocked.opened;
      order.push('a1');
    });
    sequencer.submit(1, async () => order.push('a2'));
    const b = gate();
    sequencer.submit(2, async () => {
      order.push('b1');
      b.open();
    });
    await b.opened;
    await sequencer.atMost(2);
    expect(order).toEqual(['b1']);
    expect(sequencer.pending).toBe(2);
    blocked.open();
    await sequencer.atMost(0);
    expect(order).toEqual(['b1', 'a1', 'a2']);
    expect(errors).toEqual([]);
  });

  it('reports a failing task with its key and still runs the next task of that key', async () => {
    const seen: string[] = [];
    const sequencer = new KeyedSequencer<string>((error, key) =>
      seen.push(`${key}: ${(error as Error).message}`),
    );
    sequencer.submit('chat', async () => {
      throw new Error('boom');
    });
    sequencer.submit('chat', async () => seen.push('next ran'));
    await sequencer.atMost(0);
    expect(seen).toEqual(['chat: boom', 'next ran']);
    expect(sequencer.pending).toBe(0);
  });

  it('holds a submitter back until the pending tasks fall to the limit', async () => {
    const sequencer = new KeyedSequencer<number>(() => undefined);
    const gates = [gate(), gate(), gate()];
    for (const [i, g] of gates.entries()) sequencer.submit(i, () => g.opened);
    let released = false;
    const waiting = sequencer.atMost(1).then(() => {
      released = true;
    });
    gates[0]!.open();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(released).toBe(false);
    gates[1]!.open();
    await waiting;
    expect(sequencer.pending).toBe(1);
    gates[2]!.open();
    await sequencer.atMost(0);
  });
});
