import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorBody, FieldError } from '../contract/index.js';
import { AgnesError, type ErrorCode, isAgnesError } from '../core/errors.js';
import type { AgnesApp } from './app.js';

/**
 * Renders an error as an HTML page when the request came from a browser page or form (09 §1 rules common to all pages);
 * returns undefined for API callers, who get the JSON body.
 */
export type HtmlErrorRenderer = (
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
) => FastifyReply | undefined;

function validationErrors(error: FastifyError): FieldError[] {
  return (error.validation ?? []).map((v) => {
    const base = `/${error.validationContext ?? 'body'}${v.instancePath}`;
    const missing = (v.params as { missingProperty?: string; additionalProperty?: string } | undefined) ?? {};
    if (missing.additionalProperty)
      return { path: `${base}/${missing.additionalProperty}`, message: 'unknown field' };
    if (missing.missingProperty)
      return { path: `${base}/${missing.missingProperty}`, message: 'is required' };
    return { path: base, message: v.message ?? 'is invalid' };
  });
}

/**
 * The one place errors become HTTP responses (03 §0.2): typed errors keep their code and status;
 * schema failures are 422 with per-field messages; anything else is a plain 500 whose details
 * stay in the log, never in the response.
 */
export function registerErrorHandling(app: AgnesApp, html?: HtmlErrorRenderer): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const requestId = String(request.id);
    const page = html?.(error, request, reply);
    if (page) return page;
    if (isAgnesError(error)) {
      // Missing or invalid credentials, wherever they were found out (03 §0.1 auth notation).
      if (error.status === 401 && !reply.hasHeader('WWW-Authenticate'))
        reply.header('WWW-Authenticate', 'Bearer');
      // Limits counted outside @fastify/rate-limit (per email) say when to retry too (04 §4.1).
      const retryAfter = (error as { retryAfter?: unknown }).retryAfter;
      if (typeof retryAfter === 'number' && !reply.hasHeader('Retry-After'))
        reply.header('Retry-After', String(Math.max(1, Math.ceil(retryAfter))));
      // Extra fields (e.g. the current `status` of a request that is no longer pending) come
      // first, so they can never replace the three fields every error has.
      return reply
        .status(error.status)
        .send({ ...error.extra, detail: error.detail, code: error.code, request_id: requestId });
    }
    if (error.validation) {
      const body: ErrorBody = {
        detail: 'request validation failed',
        code: 'validation_failed',
        request_id: requestId,
        errors: validationErrors(error),
      };
      return reply.status(422).send(body);
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const detail =
        status === 413 ? 'payload too large' : status === 415 ? 'unsupported media type' : 'bad request';
      const code: ErrorCode =
        status === 413 ? 'payload_too_large' : status === 415 ? 'unsupported_media_type' : 'bad_request';
      return reply.status(status).send({ detail, code, request_id: requestId });
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply
      .status(500)
      .send({ detail: 'internal error', code: 'internal_error', request_id: requestId });
  });

  app.setNotFoundHandler(
    (request, reply) =>
      html?.(new AgnesError('not_found', 'not found') as unknown as FastifyError, request, reply) ??
      reply.status(404).send({ detail: 'not found', code: 'not_found', request_id: String(request.id) }),
  );
}
