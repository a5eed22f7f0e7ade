import { type Static, Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest, RouteShorthandOptions } from 'fastify';
import { loadAccessView } from '../../core/access/access.js';
import { AgnesError } from '../../core/errors.js';
import { isValidShardName, isValidTableId } from '../../core/ids.js';
import {
  boundTablesOf,
  type PolicyAuditParams,
  policyAudit,
  sliceTableOf,
} from '../../core/policies/enforce.js';
import { openSliceFile, type Slice } from '../../core/policies/slices.js';
import type { FileRecord } from '../../core/state/schema.js';
import { type OpenedFile, openPublishedFile } from '../../core/sync/published-file.js';
import type { AgnesApp } from '../app.js';
import type { AppServices } from '../app-services.js';
import { errors } from '../schemas.js';
import { decideRange, ifRangeHolds, noneMatch, type RangeDecision } from './http-conditional.js';

/** Read buffer of the download stream (03 §5): memory per download stays at about this size. */
const READ_BUFFER_BYTES = 1024 * 1024;

/** What a `Content-Disposition` file name may contain; anything else falls back to `<table>.parquet`. */
const SAFE_FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.=-]{0,199}$/;

const Binary = (description: string) => ({
  description,
  content: { 'application/octet-stream': { schema: Type.String({ format: 'binary' }) } },
});

const DownloadParams = Type.Object({ table_id: Type.String() });
const ShardParams = Type.Object({ table_id: Type.String(), file: Type.String() });

const RESPONSES = {
  200: Binary('The whole file'),
  206: Binary('One byte range of the file'),
  304: Type.Null({ description: 'Not modified (If-None-Match)' }),
  ...errors(401, 403, 404, 409, 416, 503),
};

const notFound = () => new AgnesError('not_found', 'table not found');

/** What a download serves: a published file, or the caller's policy slice of the table (12 §3). */
type Target = { record: FileRecord; slice: null } | { record: null; slice: Slice };

/** The file a request names, after the id, access and layout checks of 03 §5 and the caller's policies. */
async function resolveTarget(
  services: AppServices,
  request: FastifyRequest,
  tableId: string,
  shard: string | null,
): Promise<{ target: Target; policies: PolicyAuditParams }> {
  // Patterns first, before any lookup: nothing else about a malformed id is ever looked at.
  if (!isValidTableId(tableId) || (shard !== null && !isValidShardName(shard))) throw notFound();
  const { repos, policies: enforcement } = services.ctx;
  const principal = request.auth!.principal;
  const view = await loadAccessView(repos, principal);
  // Not visible → 404; visible but not readable → 403 (04 §6.2 object-level checks and the 403/404 policy).
  if (!view.isVisible(tableId)) throw notFound();
  if (!view.canRead(tableId).allowed)
    throw new AgnesError('table_forbidden', 'you do not have read access to this table');
  const state = await repos.syncState.getState(tableId);
  if (state?.status !== 'ok') throw notFound();
  const bound = (await boundTablesOf(enforcement, principal, [tableId], async () => sliceTableOf(state))).get(
    tableId,
  );
  const policies = await policyAudit(
    enforcement,
    principal,
    [tableId],
    new Map(bound ? [[tableId, bound.view]] : []),
  );
  if (state.layout === 'remote')
    throw new AgnesError('remote_table', 'a remote table has no files; query it on the server');
  if (bound?.slice) {
    // The slice is the table's one file for this reader, named as the manifest names it.
    if (shard !== null && shard !== `${tableId}.parquet`) throw new AgnesError('not_found', 'file not found');
    return { target: { record: null, slice: bound.slice }, policies };
  }
  return { target: { record: publishedRecord(state.layout, state.files, shard), slice: null }, policies };
}

function publishedRecord(layout: string, files: readonly FileRecord[], shard: string | null): FileRecord {
  if (shard === null) {
    if (layout === 'multi')
      throw new AgnesError('multi_file_table', 'this table has several files; download each from /files/');
    const [only] = files;
    if (!only) throw notFound();
    return only;
  }
  // Exactly one of the recorded names; the path comes from the record, never from the request.
  const record = files.find((f) => f.name === shard);
  if (!record) throw new AgnesError('not_found', 'file not found');
  return record;
}

const staleFile = () =>
  new AgnesError('stale_manifest', 'the file changed since the manifest was built; fetch it again');

/** The opened file and what the response says of it: its name and content hash. */
async function openTarget(
  services: AppServices,
  request: FastifyRequest,
  tableId: string,
  target: Target,
): Promise<{ name: string; hash: string; file: OpenedFile }> {
  if (target.slice) {
    const file = await openSliceFile(target.slice);
    if (!file) throw staleFile();
    return { name: `${tableId}.parquet`, hash: target.slice.sha256, file };
  }
  const record = target.record;
  const opened = await openPublishedFile(services.ctx.dataDir, record);
  if (opened.ok) return { name: record.name, hash: record.hash, file: opened.file };
  if (opened.reason === 'invalid_record') {
    request.log.warn({ file: record.name }, 'sync_state file record outside extracts/');
    throw new AgnesError('not_found', 'file not found');
  }
  throw staleFile();
}

/** Streams (or for HEAD, describes) one opened file, honouring the conditional and range headers. */
async function sendFile(
  request: FastifyRequest,
  reply: FastifyReply,
  tableId: string,
  served: { name: string; hash: string; file: OpenedFile },
  policies: PolicyAuditParams,
): Promise<FastifyReply> {
  const { file } = served;
  const record = { name: served.name, hash: served.hash };
  let streaming = false;
  try {
    const etag = `"${record.hash}"`;
    const lastModified = file.mtime.toUTCString();
    const validators = {
      ETag: etag,
      'Last-Modified': lastModified,
      'Cache-Control': 'private, no-cache',
      'Accept-Ranges': 'bytes',
    };
    if (noneMatch(header(request, 'if-none-match'), etag)) {
      return reply.status(304).headers(validators).send();
    }
    const range: RangeDecision = ifRangeHolds(header(request, 'if-range'), etag, lastModified)
      ? decideRange(header(request, 'range'), file.size)
      : { kind: 'full' };
    if (range.kind === 'unsatisfiable') {
      reply.header('Content-Range', `bytes */${file.size}`);
      throw new AgnesError('range_not_satisfiable', 'the requested range is outside the file');
    }
    const start = range.kind === 'partial' ? range.start : 0;
    const end = range.kind === 'partial' ? range.end : file.size - 1;
    const name = SAFE_FILE_NAME.test(record.name) ? record.name : `${tableId}.parquet`;
    reply.headers({
      ...validators,
      'Content-Type': 'application/octet-stream',
      'Content-Disposition': `attachment; filename="${name}"`,
      'X-Content-SHA256': record.hash,
      'Content-Length': String(end - start + 1),
    });
    if (range.kind === 'partial') {
      reply.status(206).header('Content-Range', `bytes ${start}-${end}/${file.size}`);
    }
    request.audit = {
      action: 'data.download',
      resource: tableId,
      params: {
        table: tableId,
        file: record.name,
        range: range.kind === 'partial' ? `bytes=${start}-${end}` : null,
        ...policies,
      },
    };
    if (request.method === 'HEAD' || end < start) return reply.send();
    // The descriptor that was checked is the one streamed; the stream closes it when done.
    const stream = file.handle.createReadStream({ start, end, highWaterMark: READ_BUFFER_BYTES });
    streaming = true;
    return reply.send(stream as never);
  } finally {
    if (!streaming) await file.handle.close();
  }
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * Data downloads (03 §5): the table's published file, or one shard of a multi-file table, streamed
 * with a 1 MiB buffer and back-pressure, content-hash ETags, conditional and range requests.
 * Ids are checked against their patterns before anything else; paths come only from `sync_state`.
 */
export async function dataRoutes(app: AgnesApp, services: AppServices): Promise<void> {
  const download = async (request: FastifyRequest, reply: FastifyReply) => {
    const { table_id } = request.params as Static<typeof DownloadParams>;
    return serve(request, reply, table_id, null);
  };
  const shard = async (request: FastifyRequest, reply: FastifyReply) => {
    const { table_id, file } = request.params as Static<typeof ShardParams>;
    return serve(request, reply, table_id, file);
  };
  const serve = async (
    request: FastifyRequest,
    reply: FastifyReply,
    tableId: string,
    file: string | null,
  ) => {
    const { target, policies } = await resolveTarget(services, request, tableId, file);
    return sendFile(request, reply, tableId, await openTarget(services, request, tableId, target), policies);
  };

  const routes: [string, typeof DownloadParams | typeof ShardParams, typeof download, string][] = [
    ['/api/data/:table_id/download', DownloadParams, download, "Download a single-file table's Parquet file"],
    ['/api/data/:table_id/files/:file', ShardParams, shard, 'Download one file (shard) of a table'],
  ];
  for (const [url, params, handler, summary] of routes) {
    const schema = { tags: ['data'], summary, params, response: RESPONSES };
    // HEAD first and explicit, so Fastify does not derive one that would drain the stream; it is
    // not audited (no data leaves) and not listed separately in OpenAPI.
    app.head(
      url,
      { config: { auth: 'analyst+' }, schema: { ...schema, hide: true } } as RouteShorthandOptions,
      handler,
    );
    app.get(
      url,
      {
        // Recorded only when data was delivered (200/206), never for 304 (04 §8).
        config: { auth: 'analyst+', audit: 'data.download', auditSuccessOnly: true },
        schema,
      } as RouteShorthandOptions,
      handler,
    );
  }
}
