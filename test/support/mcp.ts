import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

/** MCP clients for tests: the SDK's own client, and raw JSON-RPC over HTTP for the refusals. */

export const CLIENT_INFO = { name: 'agnes-test-agent', version: '9.8.7' };

/** The SDK's client connected to `/mcp` with `authorization`; `headers` go on every request. */
export async function httpClient(
  url: string,
  authorization: string,
  headers: Record<string, string> = {},
): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const client = new Client(CLIENT_INFO);
  const transport = new StreamableHTTPClientTransport(new URL(`${url}/mcp`), {
    requestInit: { headers: { authorization, ...headers } },
  });
  await client.connect(transport);
  return { client, transport };
}

/** A tool result's text and structured content, with the error flag. */
export async function tool(client: Client, name: string, args: Record<string, unknown> = {}) {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  const first = result.content[0];
  return {
    text: first?.type === 'text' ? first.text : '',
    // biome-ignore lint/suspicious/noExplicitAny: tests read the tools' documented shapes
    structured: result.structuredContent as any,
    isError: result.isError === true,
  };
}

export interface RawAnswer {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: a JSON-RPC answer of any shape
  body: any;
  text: string;
}

export interface RawOptions {
  auth?: string;
  session?: string;
  headers?: Record<string, string>;
  /** Sent as it is instead of the JSON of `message`. */
  rawBody?: string;
  method?: string;
}

/** One HTTP request to `/mcp`; an SSE answer is read to its end and its first message parsed. */
export async function rawMcp(url: string, message: unknown, options: RawOptions = {}): Promise<RawAnswer> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    ...(options.auth ? { authorization: options.auth } : {}),
    ...(options.session ? { 'mcp-session-id': options.session } : {}),
    ...options.headers,
  };
  const method = options.method ?? 'POST';
  const response = await fetch(`${url}/mcp`, {
    method,
    headers,
    body: method === 'POST' ? (options.rawBody ?? JSON.stringify(message)) : undefined,
  });
  const text = await response.text();
  let body: unknown = null;
  if ((response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    const data = text.split('\n').find((line) => line.startsWith('data: '));
    body = data ? JSON.parse(data.slice(6)) : null;
  } else if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  return { status: response.status, headers: response.headers, body, text };
}

export const initializeMessage = (protocolVersion = '2025-06-18', id = 1) => ({
  jsonrpc: '2.0',
  id,
  method: 'initialize',
  params: { protocolVersion, capabilities: {}, clientInfo: CLIENT_INFO },
});

/** A session opened by hand: initialize, then the initialized notification. */
export async function rawSession(url: string, auth: string, protocolVersion = '2025-06-18'): Promise<string> {
  const init = await rawMcp(url, initializeMessage(protocolVersion), { auth });
  const session = init.headers.get('mcp-session-id');
  if (init.status !== 200 || !session) throw new Error(`initialize failed: ${init.status} ${init.text}`);
  const done = await rawMcp(
    url,
    { jsonrpc: '2.0', method: 'notifications/initialized' },
    { auth, session, headers: { 'mcp-protocol-version': protocolVersion } },
  );
  if (done.status !== 202) throw new Error(`initialized failed: ${done.status} ${done.text}`);
  return session;
}
