import { FormatRegistry } from '@sinclair/typebox';
import { isValidSchedule } from '../schedule/schedule.js';

/** String formats the configuration schema uses; registered once, before any validation. */
export function registerConfigFormats(): void {
  if (!FormatRegistry.Has('schedule')) FormatRegistry.Set('schedule', isValidSchedule);
  if (!FormatRegistry.Has('http-url')) {
    FormatRegistry.Set('http-url', (value) => {
      try {
        const url = new URL(value);
        return url.protocol === 'http:' || url.protocol === 'https:';
      } catch {
        return false;
      }
    });
  }
}
