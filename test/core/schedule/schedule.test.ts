import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/core/config/index.js';
import {
  isValidSchedule,
  parseSchedule,
  type Schedule,
  ScheduleError,
} from '../../../src/core/schedule/schedule.js';
import { tempDir } from '../../support/extracts.js';

describe('parseSchedule (08-services.md §1.1)', () => {
  it.each<[string, Schedule]>([
    ['every 1m', { kind: 'every', minutes: 1 }],
    ['every 15m', { kind: 'every', minutes: 15 }],
    ['every 1440m', { kind: 'every', minutes: 1440 }],
    ['every 1h', { kind: 'every', minutes: 60 }],
    ['every 2h', { kind: 'every', minutes: 120 }],
    ['every 168h', { kind: 'every', minutes: 168 * 60 }],
    ['daily 00:00', { kind: 'daily', times: ['00:00'] }],
    ['daily 23:59', { kind: 'daily', times: ['23:59'] }],
    ['daily 06:00,18:00', { kind: 'daily', times: ['06:00', '18:00'] }],
    ['daily 18:00,06:00,06:00', { kind: 'daily', times: ['06:00', '18:00'] }],
    ['30 2 * * 1-5', { kind: 'cron', expression: '30 2 * * 1-5' }],
    ['*/5 * * * *', { kind: 'cron', expression: '*/5 * * * *' }],
    ['0 6,18 1 1-6 *', { kind: 'cron', expression: '0 6,18 1 1-6 *' }],
    ['manual', { kind: 'manual' }],
    ['  every 5m  ', { kind: 'every', minutes: 5 }],
    ['\tmanual\n', { kind: 'manual' }],
  ])('accepts %j', (input, expected) => {
    expect(parseSchedule(input)).toEqual(expected);
    expect(isValidSchedule(input)).toBe(true);
  });

  it('accepts up to 24 daily slots, counting duplicates once', () => {
    const hours = Array.from({ length: 24 }, (_, h) => `${String(h).padStart(2, '0')}:00`);
    expect(parseSchedule(`daily ${hours.join(',')}`)).toEqual({ kind: 'daily', times: hours });
    expect(parseSchedule(`daily ${[...hours, '00:00'].join(',')}`)).toEqual({ kind: 'daily', times: hours });
    expect(isValidSchedule(`daily ${[...hours, '00:30'].join(',')}`)).toBe(false);
  });

  it.each([
    'every 0m',
    'every 1441m',
    'every 0h',
    'every 169h',
    'every 5',
    'every 5s',
    'every 5d',
    'every -5m',
    'every  5m',
    'every 5 m',
    'Every 5m',
    'EVERY 5M',
    'daily 24:00',
    'daily 06:60',
    'daily 6:00',
    'daily 06:00,',
    'daily 06:00, 18:00',
    'daily',
    'Daily 06:00',
    '61 * * * *',
    '* 24 * * *',
    '* * * * * *',
    '* * * *',
    'a b c d e',
    'Manual',
    'MANUAL',
    'never',
    '',
    '   ',
  ])('refuses %j', (input) => {
    expect(isValidSchedule(input)).toBe(false);
    expect(() => parseSchedule(input)).toThrow(ScheduleError);
  });

  it('names the refused input in the error', () => {
    let thrown: unknown;
    try {
      parseSchedule('every 0m');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ScheduleError);
    expect((thrown as ScheduleError).message).toBe('invalid schedule "every 0m"');
    expect((thrown as ScheduleError).input).toBe('every 0m');
  });
});

describe('schedule keys in instance.yaml', () => {
  it('validates every schedule key with the same grammar', async () => {
    const dir = await tempDir('agnes-schedule-');
    try {
      const path = join(dir.path, 'instance.yaml');
      await writeFile(
        path,
        [
          'sync:',
          '  default_schedule: manual',
          'corporate_memory:',
          '  schedule: "daily 24:00"',
          'scheduler:',
          '  maintenance_schedule: "*/10 * * * *"',
          '  health_interval: "every 1441m"',
          'session_collector:',
          '  schedule: Manual',
          '',
        ].join('\n'),
      );
      let thrown: unknown;
      try {
        loadConfig({ env: { AGNES_CONFIG: path }, cwd: dir.path });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(ConfigError);
      expect((thrown as ConfigError).problems).toEqual([
        'config: corporate_memory.schedule: invalid schedule "daily 24:00"',
        'config: scheduler.health_interval: invalid schedule "every 1441m"',
        'config: session_collector.schedule: invalid schedule "Manual"',
      ]);
    } finally {
      await dir.cleanup();
    }
  });
});
