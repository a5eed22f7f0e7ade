import type { LoggerOptions } from 'pino';

interface LoggedRequest {
  method?: string;
  url?: string;
  ip?: string;
  id?: unknown;
}

/**
 * A request in a log line: the path without its query string, which can carry one-time link
 * tokens and OAuth codes.
 */
function serializeRequest(request: LoggedRequest) {
  return { method: request.method, path: request.url?.split('?')[0], ip: request.ip };
}

/**
 * Structured logs on stdout. Credentials never reach them: headers that carry them and any field
 * named like a secret are censored wherever they appear, and URLs are logged without queries.
 */
export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    serializers: { req: serializeRequest },
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
