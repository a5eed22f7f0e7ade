import { Writable } from 'node:stream';
import { type Logger, pino } from 'pino';

/** A pino logger writing JSON lines to memory, at debug so nothing is filtered out. */
export function captureLogs(): {
  logger: Logger;
  text: () => string;
  entries: () => Record<string, unknown>[];
} {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  const logger = pino({ level: 'debug' }, stream);
  const text = () => chunks.join('');
  const entries = () =>
    text()
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, text, entries };
}
