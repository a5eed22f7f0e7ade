import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { type Service, ServiceList } from '../../src/runtime/services.js';

const silent = pino({ level: 'silent' });

function recorder(events: string[], name: string, fail: { start?: boolean; stop?: boolean } = {}): Service {
  return {
    name,
    async start() {
      events.push(`start ${name}`);
      if (fail.start) throw new Error(`${name} cannot start`);
    },
    async stop() {
      events.push(`stop ${name}`);
      if (fail.stop) throw new Error(`${name} cannot stop`);
    },
  };
}

describe('service list', () => {
  it('starts in order once, and stops in reverse once', async () => {
    const events: string[] = [];
    const list = new ServiceList(silent, [recorder(events, 'a'), recorder(events, 'b')]);
    list.add(recorder(events, 'c'));
    await Promise.all([list.start(), list.start()]);
    await Promise.all([list.stop(), list.stop()]);
    expect(events).toEqual(['start a', 'start b', 'start c', 'stop c', 'stop b', 'stop a']);
  });

  it('stops every service when one fails to start, and reports the failure', async () => {
    const events: string[] = [];
    const list = new ServiceList(silent, [
      recorder(events, 'a'),
      recorder(events, 'b', { start: true }),
      recorder(events, 'c'),
    ]);
    await expect(list.start()).rejects.toThrow('b cannot start');
    expect(events).toEqual(['start a', 'start b', 'stop c', 'stop b', 'stop a']);
  });

  it('goes on stopping the others when one fails to stop, so shutdown reaches the end', async () => {
    const events: string[] = [];
    const list = new ServiceList(silent, [recorder(events, 'a'), recorder(events, 'b', { stop: true })]);
    await list.start();
    await list.stop();
    expect(events.slice(2)).toEqual(['stop b', 'stop a']);
  });

  it('refuses a duplicate name and a service added after start', async () => {
    const events: string[] = [];
    const list = new ServiceList(silent, [recorder(events, 'a')]);
    expect(() => list.add(recorder(events, 'a'))).toThrow('listed twice');
    await list.start();
    expect(() => list.add(recorder(events, 'late'))).toThrow('added after start');
    await list.stop();
  });
});
