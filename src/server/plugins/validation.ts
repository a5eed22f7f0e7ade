import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyRequest } from 'fastify';
import { normaliseEmail } from '../../core/state/repositories/users.js';
import type { AgnesApp } from '../app.js';
import { addRouteHook } from './route-hooks.js';

function ajv(coerceTypes: boolean | 'array'): Ajv {
  const instance = new Ajv({
    coerceTypes,
    useDefaults: true,
    removeAdditional: false,
    allErrors: true,
    strict: false,
  });
  addFormats.default(instance);
  return instance;
}

/**
 * Request validation (03 §0.3 requests): unknown JSON fields are rejected, never silently dropped, and JSON
 * bodies are not coerced (`"1"` is not a number). Query, path and header values arrive as text and
 * are coerced to their schema types.
 */
export function registerValidation(app: AgnesApp): void {
  const bodies = ajv(false);
  const parameters = ajv('array');
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? bodies : parameters).compile(schema as Record<string, unknown>),
  );
  // Bodies are JSON (or a form where a route says so): Fastify's built-in text/plain parser would
  // hand a string to the schema (a 422) where an unsupported media type is a 415 (03 §0.2 error format).
  app.removeContentTypeParser('text/plain');
  // A request without a body is validated as an empty object: optional-only bodies (logout)
  // pass, bodies with required fields still get a 422 naming them. Email fields are trimmed and
  // lower-cased before validation, so "  Admin@X.COM " is the address it means on every route.
  app.addHook('onRoute', (route) => {
    if (!route.schema?.body) return;
    const emailFields = emailFieldsOf(route.schema.body);
    addRouteHook(route, 'preValidation', async (request: FastifyRequest) => {
      if (request.body === undefined) request.body = {};
      const body = request.body;
      // Anything but an object (null, an array, a number) is left for the schema to refuse.
      if (emailFields.length === 0 || body === null || typeof body !== 'object' || Array.isArray(body))
        return;
      const fields = body as Record<string, unknown>;
      for (const field of emailFields)
        if (typeof fields[field] === 'string') fields[field] = normaliseEmail(fields[field]);
    });
  });
}

/** Top-level properties of a body schema declared with the email format. */
function emailFieldsOf(schema: unknown): string[] {
  const properties = (schema as { properties?: Record<string, { format?: unknown }> }).properties ?? {};
  return Object.entries(properties)
    .filter(([, property]) => property?.format === 'email')
    .map(([name]) => name);
}
