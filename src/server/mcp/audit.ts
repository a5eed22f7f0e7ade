import type { Implementation } from '@modelcontextprotocol/sdk/types.js';
import { auditResult, redactParams } from '../../core/audit/redact.js';
import { errorMessage } from '../../core/errors.js';
import type { ToolCallRecord } from '../../core/mcp/server.js';
import type { Repositories } from '../../core/state/repositories/index.js';
import type { ServerCall } from './backend.js';

/**
 * One audit entry per `tools/call` (14 §5): `mcp.<tool>`, client `mcp`, the arguments after
 * redaction with the client's name and version from its `initialize`. A `query` call also writes
 * the `query.execute` entry every query path writes (04 §8).
 */
export async function auditToolCall(
  repos: Repositories,
  record: ToolCallRecord,
  call: ServerCall,
  client: Implementation | undefined,
): Promise<void> {
  const { request, auth } = call;
  const status = record.refusal?.status ?? 200;
  const params = redactParams({
    client_name: client?.name ?? null,
    client_version: client?.version ?? null,
    ...(record.known ? record.args : { tool: record.tool }),
    ...(record.rowCount === undefined ? {} : { row_count: record.rowCount, truncated: record.truncated }),
    ...(record.refusal ? { refusal: record.refusal.code } : {}),
    ...call.policyAudit,
  }) as Record<string, unknown>;
  const entry = {
    user_id: auth.principal.id,
    resource: record.resource,
    params,
    result: auditResult(status),
    status_code: status,
    duration_ms: record.durationMs,
    request_id: String(request.id),
    ip: request.ip,
    client: 'mcp' as const,
  };
  const actions = [`mcp.${record.known ? record.tool : 'unknown_tool'}`];
  if (record.known && record.tool === 'query') actions.push('query.execute');
  try {
    for (const action of actions) await repos.audit.append({ ...entry, action });
  } catch (error) {
    request.log.error({ err: errorMessage(error) }, 'audit write failed');
  }
}
