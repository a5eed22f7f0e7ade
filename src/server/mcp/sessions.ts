import { randomBytes } from 'node:crypto';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';

/**
 * The `/mcp` sessions (14 §3): stateful, each bound to the user who initialised it, closed after
 * 30 minutes idle, at most 10 per user (opening an eleventh closes that user's oldest).
 */

export interface McpSession {
  readonly id: string;
  readonly userId: string;
  readonly transport: StreamableHTTPServerTransport;
  readonly createdAt: number;
  lastSeen: number;
}

export interface SessionOptions {
  idleMs: number;
  perUser: number;
  /** The protocol server of a new session; the SDK connects it to the session's transport. */
  create(): Server;
}

const SWEEP_MS = 60_000;

export class McpSessions {
  readonly #sessions = new Map<string, McpSession>();
  readonly #options: SessionOptions;
  readonly #sweeper: NodeJS.Timeout;

  constructor(options: SessionOptions) {
    this.#options = options;
    this.#sweeper = setInterval(() => this.#sweep(), SWEEP_MS);
    this.#sweeper.unref();
  }

  get size(): number {
    return this.#sessions.size;
  }

  /**
   * A transport for an `initialize` request of `userId`. The session exists once the transport
   * has accepted the request and drawn its id (256 random bits).
   */
  async open(userId: string): Promise<StreamableHTTPServerTransport> {
    const server = this.#options.create();
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomBytes(32).toString('base64url'),
      // Every answer is one JSON document: the tools send no progress, so a stream adds only cost.
      enableJsonResponse: true,
      onsessioninitialized: (id) => {
        const now = Date.now();
        this.#sessions.set(id, { id, userId, transport, createdAt: now, lastSeen: now });
        this.#limitUser(userId);
      },
    });
    server.onclose = () => {
      if (transport.sessionId) this.#sessions.delete(transport.sessionId);
    };
    await server.connect(transport);
    return transport;
  }

  /** The live session `id` of `userId`; null for an unknown, expired or someone else's session. */
  find(id: string, userId: string): McpSession | null {
    const session = this.#sessions.get(id);
    if (!session) return null;
    const now = Date.now();
    if (now - session.lastSeen > this.#options.idleMs) {
      void this.close(session);
      return null;
    }
    if (session.userId !== userId) return null;
    session.lastSeen = now;
    return session;
  }

  async close(session: McpSession): Promise<void> {
    this.#sessions.delete(session.id);
    await session.transport.close();
  }

  async closeAll(): Promise<void> {
    clearInterval(this.#sweeper);
    await Promise.all([...this.#sessions.values()].map((session) => this.close(session)));
  }

  #limitUser(userId: string): void {
    const mine = [...this.#sessions.values()]
      .filter((session) => session.userId === userId)
      .sort((a, b) => a.createdAt - b.createdAt);
    for (const session of mine.slice(0, Math.max(0, mine.length - this.#options.perUser)))
      void this.close(session);
  }

  #sweep(): void {
    const now = Date.now();
    for (const session of this.#sessions.values())
      if (now - session.lastSeen > this.#options.idleMs) void this.close(session);
  }
}
