import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  CallToolRequestSchema,
  type CallToolResult,
  ErrorCode,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  type ServerNotification,
  type ServerRequest,
  type ServerResult,
} from '@modelcontextprotocol/sdk/types.js';
import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import * as z from 'zod/v4';
import {
  type CatalogTable,
  type DescribedColumn,
  type DescribeTableResult,
  type ListTablesResult,
  type MemoryHit,
  type QueryResult,
  type RequestAccessResult,
  type ServedProfile,
  type TableDetail,
  type TableSchemaResource,
  type ToolArguments,
  type ToolName,
  toolArgumentSchemas,
} from '../../contract/index.js';
import { hasRole } from '../access/roles.js';
import type { Skill } from '../skills.js';
import type { Role } from '../state/schema.js';
import { type Refusal, refusalOf, tableForbidden, unknownTool } from './refusal.js';
import { renderDescription, renderMemory, renderQueryResult, renderTables } from './render.js';
import { type ToolDefinition, toolDefinitions } from './tools.js';

/**
 * The one MCP server definition (14): tools, resources and prompts over the SDK's protocol
 * `Server`, shared by `/mcp` (streamable HTTP, on the app) and `da mcp` (stdio, on a laptop). Each
 * side supplies a backend: the server's calls the use cases, the access function and the query
 * engine for the request's user; `da mcp`'s calls the API and its guarded local DuckDB.
 *
 * The low-level `Server` is used rather than `McpServer` because the protocol answers are part of
 * the spec: JSON Schema arguments refused with -32602, refusals with the API's codes in
 * `structuredContent`, `unknown_tool`, and -32002 for a resource the caller may not read.
 */

export type McpExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** What one side answers with, for one call context `C` (the request's user on the server). */
export interface McpBackend<C> {
  /** The call context of a request; throws when there is none. */
  context(extra: McpExtra): C;
  /** The caller's current role, or null when it is not known (then the side enforces it itself). */
  role(call: C): Promise<Role | null>;
  /** Readable tables, and with `includeLocked` the discoverable ones (03 §7 catalog list). */
  catalog(call: C, includeLocked: boolean): Promise<CatalogTable[]>;
  /** Tables whose files are on this machine; only `da mcp` has any. */
  syncedLocally?(call: C): Promise<ReadonlySet<string>>;
  /** One visible table (03 §7 detail); "not found" for anything else. */
  tableDetail(call: C, table: string): Promise<TableDetail>;
  /** The stored profile of a readable table, or null when it has none yet. */
  profile(call: C, table: string): Promise<ServedProfile | null>;
  query(call: C, request: { sql: string; limit: number; remote: boolean }): Promise<QueryResult>;
  sampleRows(call: C, table: string, limit: number): Promise<QueryResult>;
  requestAccess(call: C, table: string, reason: string | undefined): Promise<RequestAccessResult>;
  /** Present only where corporate memory is enabled; the tool is listed only then. */
  searchMemory?(call: C, query: string, limit: number): Promise<MemoryHit[]>;
}

/** What one `tools/call` did, for the audit log (14 §5). */
export interface ToolCallRecord {
  /** The name as called; unknown names are recorded as asked. */
  tool: string;
  known: boolean;
  /** The validated arguments with their defaults, or the raw ones when they were refused. */
  args: Record<string, unknown>;
  resource: string | null;
  refusal: Refusal | null;
  rowCount?: number;
  truncated?: boolean;
  durationMs: number;
}

export interface McpServerOptions<C> {
  version: string;
  limits: { maxLimit: number; defaultLimit: number; maxResultChars: number };
  guides(): Promise<Skill[]>;
  onToolCall?(record: ToolCallRecord, call: C, extra: McpExtra): void;
  /** An error that is not a refusal (a bug): logged by the side, answered as `internal_error`. */
  onUnexpected(error: unknown): void;
}

const SCHEMA_URI = /^agnes:\/\/tables\/([^/]+)\/schema$/;
const schemaUri = (id: string) => `agnes://tables/${encodeURIComponent(id)}/schema`;

function decodedId(text: string | undefined): string | null {
  if (text === undefined) return null;
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}

/** MCP "resource not found" (14 §2). */
const RESOURCE_NOT_FOUND = -32002;

const INSTRUCTIONS =
  'Agnes serves the tables your user may read. Start with list_tables, then describe_table; query runs one DuckDB SELECT. A refusal reads "<code>: <detail>"; table_forbidden means the table exists and request_access can ask for it.';

interface Outcome {
  structured: Record<string, unknown>;
  text: string;
  resource: string | null;
  rowCount?: number;
  truncated?: boolean;
}

class Refused extends Error {
  constructor(readonly refusal: Refusal) {
    super(refusal.detail);
  }
}

const refused = (refusal: Refusal): CallToolResult => ({
  content: [{ type: 'text', text: `${refusal.code}: ${refusal.detail}` }],
  structuredContent: { code: refusal.code, detail: refusal.detail },
  isError: true,
});

/** First schema error as `<path> <message>`; TypeBox messages state the rule, never the value. */
function argumentError(schema: TSchema, value: unknown): string {
  const first = Value.Errors(schema, value).First();
  if (!first) return 'invalid arguments';
  return `${first.path || '/'} ${first.message}`.trim();
}

function describedColumns(detail: TableDetail, profile: ServedProfile | null): DescribedColumn[] {
  const profiled = new Map((profile?.columns ?? []).map((c) => [c.name, c]));
  const columns =
    detail.columns ??
    (profile?.columns ?? []).map((c) => ({ name: c.name, type: c.type, description: null }));
  return columns.map((column) => {
    const stats = profiled.get(column.name);
    const out: DescribedColumn = { name: column.name, type: column.type, description: column.description };
    if (!stats) return out;
    out.null_pct = Math.round((100 - stats.completeness_pct) * 100) / 100;
    out.distinct = stats.unique_count;
    if (stats.type_category === 'NUMERIC') {
      if (stats.min !== null) out.min = stats.min;
      if (stats.max !== null) out.max = stats.max;
    } else if (stats.type_category === 'DATE' || stats.type_category === 'TIMESTAMP') {
      if (stats.earliest !== null) out.min = stats.earliest;
      if (stats.latest !== null) out.max = stats.latest;
    }
    return out;
  });
}

export function createMcpServer<C>(backend: McpBackend<C>, options: McpServerOptions<C>): Server {
  const { limits } = options;
  const schemas = toolArgumentSchemas(limits);
  const definitions = toolDefinitions(limits).filter(
    (tool) => tool.name !== 'search_memory' || backend.searchMemory !== undefined,
  );
  const byName = new Map(definitions.map((tool) => [tool.name as string, tool]));
  const server = new Server(
    { name: 'agnes', title: 'Agnes', version: options.version },
    { capabilities: { tools: {}, resources: {}, prompts: {} }, instructions: INSTRUCTIONS },
  );

  /**
   * Registers a handler whose request is validated here: the SDK's own parse would answer a
   * malformed request with -32603, the protocol's code for invalid params is -32602.
   */
  function handle<S extends z.ZodObject<{ method: z.ZodLiteral<string> }>>(
    schema: S,
    handler: (request: z.output<S>, extra: McpExtra) => ServerResult | Promise<ServerResult>,
  ): void {
    const envelope = z.looseObject({ method: z.literal(schema.shape.method.value) });
    server.setRequestHandler(envelope, (request, extra) => {
      const parsed = schema.safeParse(request);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new McpError(
          ErrorCode.InvalidParams,
          `invalid params: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`.trim(),
        );
      }
      return handler(parsed.data, extra);
    });
  }

  /** A table the caller may read, or the refusal that a typo would get. */
  async function readableDetail(call: C, table: string): Promise<TableDetail> {
    const detail = await backend.tableDetail(call, table);
    if (detail.access !== 'read') throw new Refused(tableForbidden(table));
    return detail;
  }

  const run: { [T in ToolName]: (call: C, args: ToolArguments<T>) => Promise<Outcome> } = {
    list_tables: async (call, args) => {
      const [tables, synced] = await Promise.all([
        backend.catalog(call, args.include_locked === true),
        backend.syncedLocally?.(call),
      ]);
      const result: ListTablesResult = {
        tables: tables.map((t) => ({
          id: t.id,
          name: t.name,
          description: t.description,
          dataset: t.dataset,
          rows: t.rows ?? null,
          query_mode: t.query_mode,
          locked: t.access !== 'read',
          ...(synced ? { synced_locally: synced.has(t.id) } : {}),
        })),
      };
      return { structured: result, text: renderTables(result, limits.maxResultChars), resource: null };
    },
    describe_table: async (call, { table }) => {
      const detail = await readableDetail(call, table);
      const profile = await backend.profile(call, table);
      const result: DescribeTableResult = {
        id: detail.id,
        name: detail.name,
        description: detail.description,
        dataset: detail.dataset,
        rows: detail.rows ?? profile?.row_count ?? null,
        columns: describedColumns(detail, profile),
        profiled_at: profile?.profiled_at ?? null,
      };
      return { structured: result, text: renderDescription(result, limits.maxResultChars), resource: table };
    },
    query: async (call, args) => {
      const limit = args.limit ?? limits.defaultLimit;
      const result = await backend.query(call, { sql: args.sql, limit, remote: args.remote === true });
      const { text, structured } = renderQueryResult(
        result,
        args.format ?? 'markdown',
        limits.maxResultChars,
      );
      return {
        structured,
        text,
        resource: null,
        rowCount: structured.row_count,
        truncated: structured.truncated,
      };
    },
    sample_rows: async (call, { table, limit }) => {
      const result = await backend.sampleRows(call, table, limit ?? 10);
      const { text, structured } = renderQueryResult(result, 'markdown', limits.maxResultChars);
      return {
        structured,
        text,
        resource: table,
        rowCount: structured.row_count,
        truncated: structured.truncated,
      };
    },
    request_access: async (call, { table, reason }) => {
      const result = await backend.requestAccess(call, table, reason);
      return {
        structured: result,
        text: `Access request ${result.id} for ${result.table_id}: ${result.status}. An administrator will approve or deny it.`,
        resource: table,
      };
    },
    search_memory: async (call, { query, limit }) => {
      const items = (await backend.searchMemory?.(call, query, limit ?? 10)) ?? [];
      return { structured: { items }, text: renderMemory(items, limits.maxResultChars), resource: null };
    },
  };

  async function callTool(tool: ToolDefinition, call: C, args: Record<string, unknown>): Promise<Outcome> {
    if (tool.minimumRole) {
      const role = await backend.role(call);
      if (role !== null && !hasRole(role, tool.minimumRole))
        throw new Refused({
          code: 'forbidden_role',
          detail: `requires role ${tool.minimumRole} or higher`,
          status: 403,
        });
    }
    const handler = run[tool.name] as (call: C, args: Record<string, unknown>) => Promise<Outcome>;
    return handler(call, args);
  }

  handle(ListToolsRequestSchema, () => ({
    tools: definitions.map((tool) => ({
      name: tool.name,
      title: tool.title,
      description: tool.description,
      inputSchema: schemas[tool.name] as { type: 'object'; [key: string]: unknown },
      annotations: {
        title: tool.title,
        readOnlyHint: tool.name !== 'request_access',
        openWorldHint: false,
      },
    })),
  }));

  handle(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const started = performance.now();
    const { name } = request.params;
    const raw = request.params.arguments ?? {};
    const tool = byName.get(name);
    const call = backend.context(extra);
    // The side decides when to write the record; the answer never waits for it.
    const record = (
      args: Record<string, unknown>,
      resource: string | null,
      refusal: Refusal | null,
      facts: Pick<ToolCallRecord, 'rowCount' | 'truncated'> = {},
    ) => {
      const entry = {
        tool: name,
        known: tool !== undefined,
        args,
        resource,
        refusal,
        ...facts,
        durationMs: Math.round(performance.now() - started),
      };
      options.onToolCall?.(entry, call, extra);
    };
    if (!tool) {
      const refusal = unknownTool(name);
      record(raw, null, refusal);
      return refused(refusal);
    }
    const schema = schemas[tool.name];
    const args = Value.Default(schema, structuredClone(raw)) as Record<string, unknown>;
    if (!Value.Check(schema, args)) {
      const detail = argumentError(schema, args);
      record(raw, null, { code: 'validation_failed', detail, status: 422 });
      throw new McpError(ErrorCode.InvalidParams, `invalid arguments for ${name}: ${detail}`);
    }
    const table = typeof raw.table === 'string' ? raw.table : undefined;
    try {
      const outcome = await callTool(tool, call, args);
      record(args, outcome.resource, null, {
        rowCount: outcome.rowCount,
        truncated: outcome.truncated,
      });
      return { content: [{ type: 'text', text: outcome.text }], structuredContent: outcome.structured };
    } catch (error) {
      const known = error instanceof Refused ? error.refusal : refusalOf(error, table);
      if (!known) options.onUnexpected(error);
      const refusal = known ?? { code: 'internal_error', detail: 'internal error', status: 500 };
      record(args, table ?? null, refusal);
      return refused(refusal);
    }
  });

  handle(ListResourceTemplatesRequestSchema, () => ({
    resourceTemplates: [
      {
        uriTemplate: 'agnes://tables/{id}/schema',
        name: 'table-schema',
        title: 'Table schema',
        description: 'Columns of a table you may read, as JSON',
        mimeType: 'application/json',
      },
    ],
  }));

  handle(ListResourcesRequestSchema, async (_request, extra) => {
    const tables = await answer(() => backend.catalog(backend.context(extra), false));
    return {
      resources: tables.map((t) => ({
        uri: schemaUri(t.id),
        name: t.id,
        title: t.name,
        description: t.description || `Columns of ${t.id}`,
        mimeType: 'application/json',
      })),
    };
  });

  handle(ReadResourceRequestSchema, async (request, extra) => {
    const { uri } = request.params;
    const notFound = () => new McpError(RESOURCE_NOT_FOUND, 'resource not found', { uri });
    const id = decodedId(SCHEMA_URI.exec(uri)?.[1]);
    if (!id) throw notFound();
    const call = backend.context(extra);
    let detail: TableDetail;
    try {
      detail = await readableDetail(call, id);
    } catch (error) {
      const refusal = error instanceof Refused ? error.refusal : refusalOf(error, id);
      // Unreadable and missing are the same answer (14 §2).
      if (refusal?.code === 'unknown_table' || refusal?.code === 'table_forbidden') throw notFound();
      throw protocolError(error);
    }
    const content: TableSchemaResource = {
      id: detail.id,
      name: detail.name,
      columns: (detail.columns ?? []).map((c) => ({
        name: c.name,
        type: c.type,
        description: c.description,
      })),
    };
    return { contents: [{ uri, mimeType: 'application/json', text: JSON.stringify(content) }] };
  });

  handle(ListPromptsRequestSchema, async () => ({
    prompts: (await options.guides()).map((guide) => ({
      name: guide.name,
      title: guide.title,
      description: guide.summary,
    })),
  }));

  handle(GetPromptRequestSchema, async (request) => {
    const guide = (await options.guides()).find((g) => g.name === request.params.name);
    if (!guide)
      throw new McpError(ErrorCode.InvalidParams, `no prompt named ${request.params.name.slice(0, 100)}`);
    return {
      description: guide.summary,
      messages: [{ role: 'user' as const, content: { type: 'text' as const, text: guide.body } }],
    };
  });

  /** A protocol answer for a failed non-tool request: the refusal's code in `data.code`. */
  function protocolError(error: unknown): McpError {
    const refusal = refusalOf(error);
    if (!refusal) {
      options.onUnexpected(error);
      return new McpError(ErrorCode.InternalError, 'internal error', { code: 'internal_error' });
    }
    return new McpError(ErrorCode.InternalError, `${refusal.code}: ${refusal.detail}`, {
      code: refusal.code,
    });
  }

  async function answer<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw protocolError(error);
    }
  }

  return server;
}
