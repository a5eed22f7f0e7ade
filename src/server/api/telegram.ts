import { Type } from '@sinclair/typebox';
import {
  ChatId,
  TelegramChatSchema,
  TelegramCodeRequestSchema,
  TelegramCodeResponseSchema,
  TelegramStatusSchema,
  TelegramUnlinkResponseSchema,
  TelegramVerifyRequestSchema,
  TelegramVerifyResponseSchema,
} from '../../contract/index.js';
import { chatSummary, issueLinkCode, telegramStatus, verifyLinkCode } from '../../core/usecases/telegram.js';
import type { AgnesApp } from '../app.js';
import type { AppServices } from '../app-services.js';
import { routeLimit } from '../plugins/rate-limits.js';
import { errors } from '../schemas.js';

/** Telegram linking (03 §19): the user's side (verify, unlink, status) and the bot's (codes, chats). */
export async function telegramRoutes(app: AgnesApp, services: AppServices): Promise<void> {
  const { ctx } = services;

  app.post(
    '/api/telegram/verify',
    {
      config: { auth: 'user', rateLimit: routeLimit(ctx.config, 'telegram_verify') },
      schema: {
        tags: ['telegram'],
        summary: 'Link the caller to the Telegram chat that was shown this code',
        body: TelegramVerifyRequestSchema,
        response: { 200: TelegramVerifyResponseSchema, ...errors(400, 401, 409, 422, 429) },
      },
    },
    async (request) => {
      const principal = request.auth!.principal;
      // The code never reaches the audit log: it is a credential until it expires.
      request.audit = { action: 'telegram.link', resource: null, params: {} };
      const linked = await verifyLinkCode(ctx, principal, request.body.code);
      request.audit = {
        action: 'telegram.link',
        resource: String(linked.chat_id),
        params: { previous_chat_id: linked.previous_chat_id },
      };
      return { status: 'linked' as const, chat_id: linked.chat_id };
    },
  );

  app.post(
    '/api/telegram/unlink',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['telegram'],
        summary: "End the caller's Telegram link",
        response: { 200: TelegramUnlinkResponseSchema, ...errors(401) },
      },
    },
    async (request) => {
      const userId = request.auth!.principal.id;
      const link = await ctx.repos.telegram.getByUser(userId);
      const wasLinked = await ctx.repos.telegram.unlink(userId);
      request.audit = {
        action: 'telegram.unlink',
        resource: link ? String(link.chat_id) : null,
        params: { was_linked: wasLinked },
      };
      return { status: 'unlinked' as const, was_linked: wasLinked };
    },
  );

  app.get(
    '/api/telegram/status',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['telegram'],
        summary: "The caller's Telegram link and the bot to talk to",
        response: { 200: TelegramStatusSchema, ...errors(401) },
      },
    },
    async (request) => telegramStatus(ctx, request.auth!.principal.id),
  );

  app.post(
    '/api/telegram/codes',
    {
      config: { auth: 'service' },
      schema: {
        tags: ['telegram'],
        summary: 'A link code for a chat (the bot); earlier codes of that chat stop working',
        body: TelegramCodeRequestSchema,
        response: { 201: TelegramCodeResponseSchema, ...errors(401, 403, 409, 422) },
      },
    },
    async (request, reply) => {
      request.audit = {
        action: 'telegram.code',
        resource: String(request.body.chat_id),
        params: { chat_id: request.body.chat_id },
      };
      const issued = await issueLinkCode(ctx, request.body, ctx.clock.now());
      reply.header('Cache-Control', 'no-store');
      return reply.status(201).send(issued);
    },
  );

  app.get(
    '/api/telegram/chats/:chat_id',
    {
      config: { auth: 'service' },
      schema: {
        tags: ['telegram'],
        summary:
          "A chat's linked account with counts of what it can read, its alerts and unread notifications",
        params: Type.Object({ chat_id: ChatId }),
        response: { 200: TelegramChatSchema, ...errors(401, 403, 422) },
      },
    },
    async (request) => chatSummary(ctx, request.params.chat_id),
  );
}
