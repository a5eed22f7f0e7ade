import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { CycleLoop } from '../../src/services/cycle-loop.js';

const log = pino({ level: 'silent' });

describe('CycleLoop', () => {
  it('runs a cycle at start, and stop waits for the running cycle within the grace time', async () => {
    let runs = 0;
    let finished = 0;
    const loop = new CycleLoop({
      schedule: 'every 30m',
      timeZone: 'UTC',
      log,
      cycle: async () => {
        runs += 1;
        await new Promise((done) => setTimeout(done, 50));
        finished += 1;
      },
    });
    loop.start();
    await loop.stop(5_000);
    expect({ runs, finished }).toEqual({ runs: 1, finished: 1 });
  });

  it('survives a failing cycle and gives up waiting after the grace time', async () => {
    const failing = new CycleLoop({
      schedule: 'daily 03:00',
      timeZone: 'UTC',
      log,
      cycle: () => Promise.reject(new Error('boom')),
    });
    failing.start();
    await failing.stop(1_000);

    const stuck = new CycleLoop({
      schedule: 'every 1m',
      timeZone: 'UTC',
      log,
      cycle: () => new Promise(() => {}),
    });
    stuck.start();
    const started = Date.now();
    await stuck.stop(100);
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
