import type { IncomingMessage } from 'node:http';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  isInitializeRequest,
  JSONRPCMessageSchema,
  SUPPORTED_PROTOCOL_VERSIONS,
} from '@modelcontextprotocol/sdk/types.js';
import { Type } from '@sinclair/typebox';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AgnesError, type ErrorCode, errorMessage, isAgnesError } from '../../core/errors.js';
import { createMcpServer } from '../../core/mcp/server.js';
import { loadSkills } from '../../core/skills.js';
import type { AgnesApp } from '../app.js';
import type { AppServices } from '../app-services.js';
import { auditToolCall } from '../mcp/audit.js';
import { type Limiter, type ServerCall, serverBackend } from '../mcp/backend.js';
import { McpSessions } from '../mcp/sessions.js';
import { type RateLimitName, routeLimit } from '../plugins/rate-limits.js';

/** Body limit of `/mcp` (14 §3 errors). */
const MAX_BODY_BYTES = 1024 * 1024;
const IDLE_MS = 30 * 60_000;
const SESSIONS_PER_USER = 10;
const JSON_CONTENT = /^application\/json\s*(;|$)/i;

/** JSON-RPC codes for refusals before any message is read; the SDK answers the same way. */
const RPC = { parse: -32700, invalidRequest: -32600, server: -32000, noSession: -32001 } as const;

const JsonRpcError = Type.Object(
  {
    jsonrpc: Type.Literal('2.0'),
    id: Type.Null(),
    error: Type.Object({
      code: Type.Integer(),
      message: Type.String(),
      data: Type.Object({ code: Type.String() }),
    }),
  },
  { description: 'A JSON-RPC error; data.code is the Agnes error code' },
);

function rpcError(reply: FastifyReply, status: number, rpc: number, message: string, code: ErrorCode) {
  return reply
    .status(status)
    .header('Content-Type', 'application/json')
    .send({ jsonrpc: '2.0', id: null, error: { code: rpc, message, data: { code } } });
}

/** Everything `/mcp` answers is JSON-RPC, refusals of the HTTP layer included (14 §3 errors). */
function jsonRpcErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  if (isAgnesError(error)) {
    if (error.status === 401) reply.header('WWW-Authenticate', 'Bearer');
    const retryAfter = (error as { retryAfter?: unknown }).retryAfter;
    if (typeof retryAfter === 'number')
      reply.header('Retry-After', String(Math.max(1, Math.ceil(retryAfter))));
    const rpc = error.status === 404 ? RPC.noSession : RPC.server;
    return rpcError(reply, error.status, rpc, error.detail, error.code);
  }
  const status = error.statusCode ?? 500;
  if (status === 413) return rpcError(reply, 413, RPC.server, 'payload too large', 'payload_too_large');
  if (status === 415)
    return rpcError(reply, 415, RPC.server, 'unsupported media type', 'unsupported_media_type');
  if (status >= 400 && status < 500)
    return rpcError(reply, status, RPC.invalidRequest, 'bad request', 'bad_request');
  request.log.error({ err: error }, 'unhandled error');
  return rpcError(reply, 500, RPC.server, 'internal error', 'internal_error');
}

/** Is the body one JSON-RPC message or a non-empty batch of them? */
function isJsonRpc(body: unknown): boolean {
  const messages = Array.isArray(body) ? body : [body];
  return messages.length > 0 && messages.every((m) => JSONRPCMessageSchema.safeParse(m).success);
}

/**
 * `/mcp` (14 §3): the MCP server over streamable HTTP. Bearer PAT or JWT only (the cookie is never
 * read, so no browser page can drive an agent's session); a request whose `Origin` is not the
 * instance's own is refused before its credential is looked at; sessions are bound to their
 * user, whose credential and role are checked again on every request; refusals are JSON-RPC.
 */
export async function mcpRoutes(app: AgnesApp, services: AppServices): Promise<void> {
  const { ctx } = services;
  const { config } = ctx;
  if (!config.mcp.enabled) return;
  const ownOrigin = config.server.public_url ? new URL(config.server.public_url).origin : null;

  const limiter = (name: RateLimitName): Limiter => {
    const check = app.createRateLimit(routeLimit(config, name));
    return async (request) => {
      const outcome = await check(request);
      if (!outcome.isAllowed && outcome.isExceeded)
        throw Object.assign(new AgnesError('rate_limited', 'too many requests; try again shortly'), {
          retryAfter: outcome.ttlInSeconds,
        });
    };
  };
  const backend = serverBackend(ctx, { query: limiter('query'), accessRequest: limiter('access_request') });
  const guides = () => loadSkills();
  const sessions = new McpSessions({
    idleMs: IDLE_MS,
    perUser: SESSIONS_PER_USER,
    create: () => {
      const server: Server = createMcpServer<ServerCall>(backend, {
        version: ctx.version,
        limits: {
          maxLimit: config.query.max_limit,
          defaultLimit: config.mcp.default_limit,
          maxResultChars: config.mcp.max_result_chars,
        },
        guides,
        // Written once the answer is on its way, as the API's audit hook writes on response.
        onToolCall: (record, call) => {
          const client = server.getClientVersion();
          setImmediate(() => void auditToolCall(ctx.repos, record, call, client));
        },
        onUnexpected: (error) => ctx.log.error({ err: errorMessage(error) }, 'mcp tool failed'),
      });
      return server;
    },
  });
  app.addHook('preClose', () => sessions.closeAll());

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_BODY_BYTES }, (_request, body, done) =>
    done(null, body),
  );
  app.setErrorHandler(jsonRpcErrors);
  app.addHook('onRequest', async (request) => {
    const origin = request.headers.origin;
    if (origin !== undefined && origin !== ownOrigin)
      throw new AgnesError('forbidden', 'requests from another origin are not accepted');
  });
  // No CORS grant, even when `server.cors_origins` lists origins for the rest of the API.
  app.addHook('onSend', async (_request, reply, payload) => {
    for (const name of Object.keys(reply.getHeaders()))
      if (name.startsWith('access-control-')) reply.removeHeader(name);
    return payload;
  });

  /** Hands the request to the session's transport, which answers it (JSON or an SSE stream). */
  async function handOff(
    transport: StreamableHTTPServerTransport,
    request: FastifyRequest,
    reply: FastifyReply,
    body?: unknown,
  ): Promise<void> {
    const call: ServerCall = { request, auth: request.auth! };
    const authInfo: AuthInfo = { token: '', clientId: call.auth.principal.id, scopes: [], extra: { call } };
    (request.raw as IncomingMessage & { auth?: AuthInfo }).auth = authInfo;
    reply.hijack();
    for (const [name, value] of Object.entries(reply.getHeaders()))
      if (value !== undefined && !name.startsWith('access-control-')) reply.raw.setHeader(name, value);
    try {
      await transport.handleRequest(request.raw, reply.raw, body);
    } catch (error) {
      request.log.error({ err: errorMessage(error) }, 'mcp transport failed');
      if (!reply.raw.headersSent) {
        reply.raw.writeHead(500, { 'Content-Type': 'application/json' });
        reply.raw.end(
          JSON.stringify({
            jsonrpc: '2.0',
            id: null,
            error: { code: RPC.server, message: 'internal error', data: { code: 'internal_error' } },
          }),
        );
      } else reply.raw.end();
    }
  }

  /** The caller's live session named by the request, or the JSON-RPC refusal already sent. */
  function sessionOf(request: FastifyRequest, reply: FastifyReply): StreamableHTTPServerTransport | null {
    const id = request.headers['mcp-session-id'];
    if (typeof id !== 'string' || id === '') {
      rpcError(reply, 400, RPC.server, 'Mcp-Session-Id header is required', 'bad_request');
      return null;
    }
    const session = sessions.find(id, request.auth!.principal.id);
    if (!session) {
      rpcError(reply, 404, RPC.noSession, 'session not found', 'not_found');
      return null;
    }
    return session.transport;
  }

  function protocolVersionRefused(request: FastifyRequest, reply: FastifyReply): boolean {
    const version = request.headers['mcp-protocol-version'];
    if (
      version === undefined ||
      (typeof version === 'string' && SUPPORTED_PROTOCOL_VERSIONS.includes(version))
    )
      return false;
    rpcError(
      reply,
      400,
      RPC.server,
      `unsupported protocol version; supported: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')}`,
      'bad_request',
    );
    return true;
  }

  const routeConfig = {
    auth: 'user' as const,
    bearerOnly: true,
    selfAudited: true,
    rateLimit: routeLimit(config, 'default'),
  };
  const refusals = Object.fromEntries([400, 401, 403, 404, 405, 413, 415, 429].map((s) => [s, JsonRpcError]));

  app.post(
    '/mcp',
    {
      config: routeConfig,
      schema: {
        tags: ['mcp'],
        summary: 'MCP (streamable HTTP): one JSON-RPC message or batch; initialize opens a session',
        description:
          'Bearer PAT or JWT only. Send Accept: application/json, text/event-stream and, after initialize, the Mcp-Session-Id and MCP-Protocol-Version headers. Body: JSON-RPC 2.0, at most 1 MiB.',
        response: {
          200: {
            description: 'The JSON-RPC response, as JSON or an SSE stream',
            content: {
              'application/json': { schema: Type.Unknown() },
              'text/event-stream': { schema: Type.String() },
            },
          },
          202: { description: 'Notifications and responses only: accepted', type: 'null' },
          ...refusals,
        },
      },
    },
    async (request, reply) => {
      if (!JSON_CONTENT.test(request.headers['content-type'] ?? ''))
        return rpcError(
          reply,
          415,
          RPC.server,
          'Content-Type must be application/json',
          'unsupported_media_type',
        );
      let body: unknown;
      try {
        body = JSON.parse((request.body as Buffer | undefined)?.toString('utf8') ?? '');
      } catch {
        return rpcError(reply, 400, RPC.parse, 'parse error: the body is not JSON', 'bad_request');
      }
      if (!isJsonRpc(body))
        return rpcError(
          reply,
          400,
          RPC.invalidRequest,
          'invalid request: not a JSON-RPC 2.0 message',
          'bad_request',
        );
      if (protocolVersionRefused(request, reply)) return reply;
      const messages = Array.isArray(body) ? body : [body];
      const initializing = !request.headers['mcp-session-id'] && messages.some((m) => isInitializeRequest(m));
      const transport = initializing
        ? await sessions.open(request.auth!.principal.id)
        : sessionOf(request, reply);
      if (transport) await handOff(transport, request, reply, body);
      return reply;
    },
  );

  app.delete(
    '/mcp',
    {
      config: routeConfig,
      schema: {
        tags: ['mcp'],
        summary: 'End an MCP session',
        response: { 200: { description: 'The session is closed', type: 'null' }, ...refusals },
      },
    },
    async (request, reply) => {
      if (protocolVersionRefused(request, reply)) return reply;
      const transport = sessionOf(request, reply);
      if (transport) await handOff(transport, request, reply);
      return reply;
    },
  );

  app.get(
    '/mcp',
    {
      config: { auth: 'user', bearerOnly: true },
      schema: {
        tags: ['mcp'],
        summary: 'Not offered: the server sends nothing outside a request (405)',
        response: refusals,
      },
    },
    async (_request, reply) => {
      reply.header('Allow', 'POST, DELETE');
      return rpcError(reply, 405, RPC.server, 'method not allowed', 'method_not_allowed');
    },
  );
}
