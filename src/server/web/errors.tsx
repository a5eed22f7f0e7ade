import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isAgnesError } from '../../core/errors.js';
import { type AppServices, pageContext } from '../app-services.js';
import { isFormPost } from '../auth/sessions.js';
import type { HtmlErrorRenderer } from '../errors.js';
import { Layout, type PageContext } from './components/layout.js';
import { sendPage } from './render.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A server-rendered page: browsers get HTML errors and a sign-in redirect instead of 401. */
    page?: boolean;
  }
}

const TITLES: Record<number, string> = {
  400: 'Bad request',
  403: 'Access denied',
  404: 'Page not found',
  422: 'Invalid input',
  429: 'Too many requests',
};

export function ErrorPage(props: { ctx: PageContext; status: number; message: string; requestId: string }) {
  const title = TITLES[props.status] ?? (props.status >= 500 ? 'Something went wrong' : 'Request refused');
  return (
    <Layout ctx={props.ctx} title={title}>
      <h1>{title}</h1>
      <p>{props.message}</p>
      <p class="muted">Request id: {props.requestId}</p>
      <p>
        <a href={props.ctx.user ? '/dashboard' : '/login'}>Back to the start page</a>
      </p>
    </Layout>
  );
}

function acceptsHtml(request: FastifyRequest): boolean {
  return String(request.headers.accept ?? '').includes('text/html');
}

/** Error pages say what happened in words fit for a browser; 5xx details stay in the log. */
function messageOf(error: FastifyError, status: number): string {
  if (status >= 500) return 'The server could not complete this request.';
  if (isAgnesError(error)) {
    if (error.code === 'forbidden_role') return `This page ${error.detail}.`;
    if (error.code === 'csrf_failed') return 'The form had expired. Go back, reload the page and try again.';
    return error.detail;
  }
  return error.validation ? 'Some fields of the form were not valid.' : 'The request could not be handled.';
}

/** Paths whose callers are programs: their errors stay JSON whatever they accept (03 §0.2). */
const JSON_PREFIXES = ['/api/', '/auth/', '/webhooks/', '/openapi.json', '/docs'];

function isJsonPath(url: string): boolean {
  return JSON_PREFIXES.some((prefix) => url === prefix.replace(/\/$/, '') || url.startsWith(prefix));
}

/**
 * Pages answer as pages for every client, not only browsers (09 §1): an anonymous visit is sent
 * to sign in with the page as `next`, and other failures of pages and unknown paths outside the
 * API render an error page whatever the `Accept` header says; HTML form posts from browsers too.
 */
export function htmlErrors(services: AppServices): HtmlErrorRenderer {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const isPage = request.routeOptions.config?.page === true;
    const unknownPath =
      (request.method === 'GET' || request.method === 'HEAD') &&
      request.routeOptions.url === undefined &&
      !isJsonPath(request.url);
    if (!isPage && !unknownPath && !(isFormPost(request) && acceptsHtml(request))) return undefined;
    const status = isAgnesError(error) ? error.status : error.validation ? 422 : (error.statusCode ?? 500);
    if (status === 401 && isPage) {
      return reply.redirect(`/login?next=${encodeURIComponent(request.url)}`, 302);
    }
    if (status >= 500) request.log.error({ err: error }, 'unhandled error');
    const ctx = pageContext(services, request, reply);
    const requestId = String(request.id);
    return sendPage(reply, ErrorPage({ ctx, status, message: messageOf(error, status), requestId }), {
      status,
    });
  };
}
