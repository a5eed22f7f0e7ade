import type { LoggerOptions } from 'pino';

/**
 * Structured logs on stdout. Credentials never reach them: headers that carry them and any field
 * named like a secret are censored wherever they appear.
 */
export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'req.headers["x-csrf-token"]',
        'res.headers["set-cookie"]',
        '*.password',
        '*.token',
        '*.access_token',
        '*.secret',
        '*.api_key',
      ],
      censor: '[redacted]',
    },
  };
}
