import { JiraWebhookHealthSchema, WebhookAnswerSchema } from '../../contract/index.js';
import { AgnesError } from '../../core/errors.js';
import type { AgnesApp } from '../app.js';
import type { AppServices } from '../app-services.js';
import { routeLimit } from '../plugins/rate-limits.js';
import { errors } from '../schemas.js';

/** Body limit while no Jira connector is listed: nothing is accepted anyway. */
const NO_CONNECTOR_LIMIT = 1024;

/**
 * The Jira webhook (03 §20, 07 §5.1): authenticated by the HMAC over the raw body, which is why
 * this scope reads every body as bytes, up to `jira.max_event_bytes`. The order of refusals is
 * the spec's: rate limit, secret, REST account (both before the body is read), size, signature,
 * then the body itself.
 */
export async function jiraWebhookRoutes(app: AgnesApp, services: AppServices): Promise<void> {
  const { ctx } = services;
  const jira = ctx.push.get('jira');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    '*',
    { parseAs: 'buffer', bodyLimit: jira?.maxEventBytes ?? NO_CONNECTOR_LIMIT },
    (_request, body, done) => done(null, body),
  );

  app.post(
    '/webhooks/jira',
    {
      config: { auth: 'hmac', rateLimit: { ...routeLimit(ctx.config, 'webhook'), hook: 'onRequest' } },
      schema: {
        tags: ['jira'],
        summary: 'Receive a Jira webhook event, signed with the shared secret',
        response: { 200: WebhookAnswerSchema, ...errors(400, 401, 413, 429, 503) },
      },
      preParsing: async (request, _reply, payload) => {
        // Never the payload in the audit log: only what the answer says.
        request.audit = { action: 'jira.webhook', params: {} };
        if (!jira)
          throw new AgnesError('webhook_secret_not_configured', 'the Jira webhook secret is not configured');
        jira.checkConfigured();
        return payload;
      },
    },
    async (request) => {
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const answer = await jira!.receive(body, request.headers);
      request.audit = {
        action: 'jira.webhook',
        resource: answer.status === 'accepted' ? answer.issue : null,
        params: { event: answer.event, status: answer.status },
      };
      return answer;
    },
  );

  app.get(
    '/webhooks/jira/health',
    {
      config: { auth: 'anon' },
      schema: {
        tags: ['jira'],
        summary: 'Whether the Jira webhook can accept events (no domain or account is shown)',
        response: { 200: JiraWebhookHealthSchema },
      },
    },
    async () => jira?.health() ?? { status: 'ok' as const, configured: false, webhook_secret_set: false },
  );
}
