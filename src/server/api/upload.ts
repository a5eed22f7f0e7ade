import multipart from '@fastify/multipart';
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AgnesError, isAgnesError } from '../../core/errors.js';
import {
  ARTIFACT_FILENAME,
  LOCAL_MD_NAME,
  type Received,
  SESSION_FILENAME,
  tooLarge,
  type UploadKind,
  UploadStore,
} from '../../core/uploads/store.js';
import type { AgnesApp } from '../app.js';
import type { AppServices } from '../app-services.js';
import { routeLimit } from '../plugins/rate-limits.js';
import { errors, Timestamp } from '../schemas.js';

const UploadResult = Type.Object({
  status: Type.Literal('ok'),
  filename: Type.String(),
  size: Type.Integer(),
  sha256: Type.String(),
  replaced: Type.Boolean(),
});

const StoredFile = Type.Object({ filename: Type.String(), size: Type.Integer(), uploaded_at: Timestamp });

/** Multipart parser errors: their 413s are about the shape of the form, not the file's size. */
const FORM_SHAPE_ERRORS = new Set([
  'FST_PARTS_LIMIT',
  'FST_FILES_LIMIT',
  'FST_FIELDS_LIMIT',
  'FST_PROTO_VIOLATION',
]);

const oneFileOnly = () =>
  new AgnesError('bad_request', 'send exactly one file, in a form field named "file"');

/**
 * Uploads (03 §14): session transcripts, artifacts and the user's CLAUDE.local.md, stored by user
 * id. Multipart bodies stream through a size counter and SHA-256 into the replica's temp
 * directory; crossing `limits.upload_max_bytes` answers 413 at once (the connection is then
 * closed, so the rest of the body is never read) and leaves no file behind. Responses never contain server paths.
 */
export async function uploadRoutes(app: AgnesApp, services: AppServices): Promise<void> {
  const { config, dataDir, tempDir } = services.ctx;
  const maxBytes = config.limits.upload_max_bytes;
  const localMdMax = config.limits.local_md_max_bytes;
  const artifactExtensions = new Set(config.limits.artifact_extensions.map((e) => e.toLowerCase()));
  const store = new UploadStore(dataDir, tempDir);
  const rate = routeLimit(config, 'upload');

  // Scoped to this router: no other route accepts multipart bodies.
  await app.register(multipart, {
    // busboy hands over the client's filename as sent, so a path in it is refused, not trimmed.
    preservePath: true,
    // The size limit is enforced by our own counter (UploadStore.receive); busboy's is a backstop.
    throwFileSizeLimit: false,
    limits: { files: 1, fields: 0, parts: 1, headerPairs: 20, fileSize: maxBytes + 1 },
  });

  function checkFilename(kind: UploadKind, filename: string): void {
    if (kind === 'sessions') {
      if (!SESSION_FILENAME.test(filename))
        throw new AgnesError(
          'invalid_filename',
          'session files are named like name.jsonl (A-Z a-z 0-9 . _ -)',
        );
      return;
    }
    if (!ARTIFACT_FILENAME.test(filename))
      throw new AgnesError(
        'invalid_filename',
        'file names use A-Z a-z 0-9 . _ - and start with a letter or digit',
      );
    const dot = filename.lastIndexOf('.');
    const extension = dot > 0 ? filename.slice(dot).toLowerCase() : '';
    if (!artifactExtensions.has(extension))
      throw new AgnesError('unsupported_media_type', 'this file type is not accepted as an artifact');
  }

  /** Reads the one `file` part of the form into a temp file; anything else in the form is refused. */
  async function receiveFile(request: FastifyRequest, kind: UploadKind) {
    if (!request.isMultipart())
      throw new AgnesError('unsupported_media_type', 'send the file as multipart/form-data');
    let received: { filename: string; file: Received } | undefined;
    try {
      for await (const part of request.parts()) {
        // An empty filename is what a browser sends when no file was chosen.
        if (received || part.type !== 'file' || part.fieldname !== 'file' || part.filename === '')
          throw oneFileOnly();
        checkFilename(kind, part.filename);
        const file = await store.receive(part.file, maxBytes);
        received = { filename: part.filename, file };
        if (part.file.truncated) throw tooLarge(maxBytes);
      }
    } catch (error) {
      if (received) await store.discard(received.file);
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'string' && FORM_SHAPE_ERRORS.has(code)) throw oneFileOnly();
      if (code === 'FST_REQ_FILE_TOO_LARGE') throw tooLarge(maxBytes);
      if (!isAgnesError(error) && (error as { statusCode?: number }).statusCode === 400) throw oneFileOnly();
      throw error;
    }
    if (!received) throw oneFileOnly();
    return received;
  }

  async function upload(request: FastifyRequest, reply: FastifyReply, kind: UploadKind) {
    const userId = request.auth!.principal.id;
    request.audit = { action: kind === 'sessions' ? 'upload.session' : 'upload.artifact', params: {} };
    try {
      const { filename, file } = await receiveFile(request, kind);
      request.audit.resource = filename;
      request.audit.params = { filename, size: file.size, sha256: file.sha256 };
      const { replaced } = await store.publish(file, userId, kind, filename);
      return { status: 'ok' as const, filename, size: file.size, sha256: file.sha256, replaced };
    } catch (error) {
      // The body may be only partly read: never keep the connection for another request.
      reply.header('Connection', 'close');
      if (!isAgnesError(error)) request.log.error({ err: error }, 'upload failed');
      throw error;
    }
  }

  const multipartDoc = {
    consumes: ['multipart/form-data'],
    description: 'A multipart form with exactly one file field named `file`.',
  };

  app.post(
    '/api/upload/sessions',
    {
      config: { auth: 'analyst+', rateLimit: rate },
      schema: {
        tags: ['upload'],
        summary: 'Upload a session transcript (name.jsonl) for the session collector',
        ...multipartDoc,
        response: { 200: UploadResult, ...errors(400, 401, 403, 413, 415, 429) },
      },
    },
    (request, reply) => upload(request, reply, 'sessions'),
  );

  app.post(
    '/api/upload/artifacts',
    {
      config: { auth: 'analyst+', rateLimit: rate },
      schema: {
        tags: ['upload'],
        summary: 'Upload an artifact (extensions from limits.artifact_extensions)',
        ...multipartDoc,
        response: { 200: UploadResult, ...errors(400, 401, 403, 413, 415, 429) },
      },
    },
    (request, reply) => upload(request, reply, 'artifacts'),
  );

  app.post(
    '/api/upload/local-md',
    {
      config: { auth: 'analyst+', rateLimit: rate },
      // JSON escaping can take up to 6 bytes per content byte (\u00xx): room for the largest body.
      bodyLimit: localMdMax * 6 + 1024,
      schema: {
        tags: ['upload'],
        summary: 'Store your CLAUDE.local.md',
        body: Type.Object({ content: Type.String() }, { additionalProperties: false }),
        response: {
          200: Type.Object({ status: Type.Literal('ok'), user: Type.String(), size: Type.Integer() }),
          ...errors(401, 403, 413, 415, 422, 429),
        },
      },
    },
    async (request) => {
      const principal = request.auth!.principal;
      const data = Buffer.from(request.body.content, 'utf8');
      request.audit = {
        action: 'upload.local_md',
        resource: LOCAL_MD_NAME,
        params: { size: data.byteLength },
      };
      if (data.byteLength > localMdMax)
        throw new AgnesError('payload_too_large', `content exceeds the limit of ${localMdMax} bytes`);
      const received = await store.receiveBuffer(data);
      await store.publish(received, principal.id, 'local_md', LOCAL_MD_NAME);
      return { status: 'ok' as const, user: principal.email, size: data.byteLength };
    },
  );

  app.get(
    '/api/upload/mine',
    {
      config: { auth: 'analyst+', rateLimit: rate },
      schema: {
        tags: ['upload'],
        summary: 'Your uploaded sessions (pending and collected), artifacts and CLAUDE.local.md',
        response: {
          200: Type.Object({
            sessions: Type.Array(Type.Object({ ...StoredFile.properties, collected: Type.Boolean() })),
            artifacts: Type.Array(StoredFile),
            local_md: Type.Union([Type.Object({ size: Type.Integer(), updated_at: Timestamp }), Type.Null()]),
          }),
          ...errors(401, 403, 429),
        },
      },
    },
    async (request) => store.listMine(request.auth!.principal.id),
  );
}
