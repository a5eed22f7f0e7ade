import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createUser, type TestServer, type TestUser, withServer } from '../../support/server.js';

/** Uploads (03 §14): streamed multipart with limits, atomic placement, no paths, no symlinks (S5, S16). */

const MiB = 1024 * 1024;
const BOUNDARY = 'agnes-test-boundary-4f1c';

interface Part {
  field?: string;
  filename?: string;
  data: string | Buffer;
}

/** A multipart body built by hand, so filenames reach the server exactly as written here. */
function multipart(parts: Part[]): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const disposition =
      part.filename === undefined
        ? `form-data; name="${part.field ?? 'file'}"`
        : `form-data; name="${part.field ?? 'file'}"; filename="${part.filename}"`;
    chunks.push(
      Buffer.from(
        `--${BOUNDARY}\r\nContent-Disposition: ${disposition}\r\nContent-Type: application/octet-stream\r\n\r\n`,
      ),
      Buffer.from(part.data),
      Buffer.from('\r\n'),
    );
  }
  chunks.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return Buffer.concat(chunks);
}

async function send(server: TestServer, path: string, auth: string, body: Buffer) {
  const response = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { authorization: auth, 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
    body: new Uint8Array(body),
  });
  const text = await response.text();
  return { status: response.status, text, body: text ? JSON.parse(text) : null };
}

const upload = (
  server: TestServer,
  kind: 'sessions' | 'artifacts',
  auth: string,
  filename: string,
  data: string | Buffer,
) => send(server, `/api/upload/${kind}`, auth, multipart([{ filename, data }]));

/**
 * Streams a multipart upload of `totalBytes` file bytes with `node:http`, one reused 1 MiB chunk at
 * a time with back-pressure, and stops writing as soon as the server answers.
 */
function streamUpload(
  server: TestServer,
  auth: string,
  filename: string,
  totalBytes: number,
): Promise<{ status: number; body: { code?: string }; sent: number }> {
  const url = new URL(server.url);
  const chunk = Buffer.alloc(MiB, 0x61);
  const head = Buffer.from(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${BOUNDARY}--\r\n`);
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const req = httpRequest({
      host: url.hostname,
      port: url.port,
      path: '/api/upload/sessions',
      method: 'POST',
      headers: { authorization: auth, 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
    });
    req.on('response', (res) => {
      answered = true;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text), sent }));
      res.on('error', reject);
    });
    // Writing into a connection the server has closed fails; only the answer matters then.
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    const pump = () => {
      while (!answered && sent < totalBytes) {
        const ok = req.write(chunk);
        sent += chunk.length;
        if (!ok) {
          req.once('drain', pump);
          return;
        }
      }
      if (!answered) req.end(tail);
    };
    req.write(head);
    pump();
  });
}

async function filesUnder(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { recursive: true, withFileTypes: true }))
      .filter((e) => !e.isDirectory())
      .map((e) => join(e.parentPath, e.name));
  } catch {
    return [];
  }
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const mode = async (path: string) => (await stat(path)).mode & 0o777;

describe('uploads (/api/upload)', () => {
  let server: TestServer;
  let analyst: TestUser;
  let other: TestUser;
  let viewer: TestUser;

  beforeAll(async () => {
    server = await withServer({
      config: { limits: { upload_max_bytes: '10MB', local_md_max_bytes: '1KB' } },
    });
    [analyst, other, viewer] = await Promise.all([
      createUser(server.ctx, 'analyst'),
      createUser(server.ctx, 'analyst'),
      createUser(server.ctx, 'viewer'),
    ]);
  });
  afterAll(async () => server.close());

  const userDir = (user: TestUser, ...rest: string[]) => join(server.dataDir, 'uploads', user.id, ...rest);

  it('stores a session transcript atomically, by user id, and reports replaced on the second upload', async () => {
    const first = '{"role":"user","text":"hi"}\n';
    const created = await upload(server, 'sessions', analyst.auth, 'chat-2026.04.09_a.jsonl', first);
    expect(created.status).toBe(200);
    expect(created.body).toEqual({
      status: 'ok',
      filename: 'chat-2026.04.09_a.jsonl',
      size: Buffer.byteLength(first),
      sha256: sha256(first),
      replaced: false,
    });
    expect(created.text).not.toContain(server.dataDir);
    const stored = userDir(analyst, 'incoming', 'sessions', 'chat-2026.04.09_a.jsonl');
    expect(await readFile(stored, 'utf8')).toBe(first);
    expect(await mode(stored)).toBe(0o640);
    for (const dir of [
      userDir(analyst),
      userDir(analyst, 'incoming'),
      userDir(analyst, 'incoming', 'sessions'),
    ])
      expect(await mode(dir)).toBe(0o750);

    const grown = `${first}{"role":"assistant","text":"hello"}\n`;
    const replaced = await upload(server, 'sessions', analyst.auth, 'chat-2026.04.09_a.jsonl', grown);
    expect(replaced.body).toMatchObject({
      replaced: true,
      size: Buffer.byteLength(grown),
      sha256: sha256(grown),
    });
    expect(await readFile(stored, 'utf8')).toBe(grown);
    expect(await filesUnder(join(server.dataDir, 'tmp'))).toEqual([]);

    const audit = await server.ctx.repos.audit.list({ action: 'upload.session' }, { page: 1, per_page: 5 });
    expect(audit.items[0]).toMatchObject({
      user_id: analyst.id,
      resource: 'chat-2026.04.09_a.jsonl',
      result: 'ok',
      params: { filename: 'chat-2026.04.09_a.jsonl', size: Buffer.byteLength(grown) },
    });
  });

  it('stores artifacts whose extension is allowed (case-insensitively) and refuses others with 415', async () => {
    const html = '<h1>report</h1>';
    const ok = await upload(server, 'artifacts', analyst.auth, 'report.html', html);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ filename: 'report.html', size: html.length, replaced: false });
    expect(await readFile(userDir(analyst, 'artifacts', 'report.html'), 'utf8')).toBe(html);
    expect((await upload(server, 'artifacts', analyst.auth, 'chart.PNG', 'png')).status).toBe(200);

    for (const name of ['run.sh', 'archive.tar.gz', 'noextension', 'page.html.exe']) {
      const refused = await upload(server, 'artifacts', analyst.auth, name, 'x');
      expect(refused.status, name).toBe(415);
      expect(refused.body.code).toBe('unsupported_media_type');
    }
    const audit = await server.ctx.repos.audit.list({ action: 'upload.artifact' }, { page: 1, per_page: 10 });
    expect(audit.items.some((a) => a.result === 'error' && a.status_code === 415)).toBe(true);
  });

  it('refuses bad filenames with 400 and writes nothing (S5)', async () => {
    const names = [
      '../escape.jsonl',
      '../../../../tmp/escape.jsonl',
      'dir/escape.jsonl',
      '..\\escape.jsonl',
      '/etc/escape.jsonl',
      '.hidden.jsonl',
      'has space.jsonl',
      'notes.txt',
      'x.jsonl.exe',
      '',
      `${'a'.repeat(201)}.jsonl`,
    ];
    for (const name of names) {
      const response = await upload(server, 'sessions', other.auth, name, '{}\n');
      expect(response.status, name).toBe(400);
      expect(response.body.code, name).toBe(name === '' ? 'bad_request' : 'invalid_filename');
      expect(response.text).not.toContain(server.dataDir);
    }
    const artifact = await upload(server, 'artifacts', other.auth, '../report.html', 'x');
    expect(artifact.status).toBe(400);
    expect(await filesUnder(userDir(other))).toEqual([]);
    expect(await filesUnder(join(server.dataDir, 'tmp'))).toEqual([]);
    expect(await filesUnder(join(server.dataDir, 'uploads'))).not.toContainEqual(
      expect.stringContaining('escape'),
    );
  });

  it('wants exactly one multipart file field named file', async () => {
    const asJson = await call(server, 'POST', '/api/upload/sessions', {
      auth: other.auth,
      body: { file: 'x' },
    });
    expect(asJson.status).toBe(415);
    const bare = await call(server, 'POST', '/api/upload/sessions', { auth: other.auth });
    expect(bare.status).toBe(415);
    const cases: Part[][] = [
      [{ field: 'upload', filename: 'a.jsonl', data: '{}' }],
      [
        { filename: 'a.jsonl', data: '{}' },
        { filename: 'b.jsonl', data: '{}' },
      ],
      [
        { field: 'note', data: 'hello' },
        { filename: 'a.jsonl', data: '{}' },
      ],
      [{ field: 'file', data: 'not a file' }],
      [],
    ];
    for (const parts of cases) {
      const response = await send(server, '/api/upload/sessions', other.auth, multipart(parts));
      expect(response.status, JSON.stringify(parts)).toBe(400);
    }
    expect(await filesUnder(userDir(other))).toEqual([]);
    expect(await filesUnder(join(server.dataDir, 'tmp'))).toEqual([]);
  });

  it('accepts a file of exactly the limit and refuses one byte more with 413', async () => {
    const limit = 10 * MiB;
    const exact = await upload(server, 'sessions', other.auth, 'exact.jsonl', Buffer.alloc(limit, 0x61));
    expect(exact.status).toBe(200);
    expect(exact.body.size).toBe(limit);
    const over = await upload(server, 'sessions', other.auth, 'over.jsonl', Buffer.alloc(limit + 1, 0x61));
    expect(over.status).toBe(413);
    expect(over.body.code).toBe('payload_too_large');
    const names = (await filesUnder(userDir(other))).map((p) => p.split('/').at(-1));
    expect(names).toEqual(['exact.jsonl']);
    expect(await filesUnder(join(server.dataDir, 'tmp'))).toEqual([]);
  });

  it('stops a 256 MiB upload at the 10 MiB cap while streaming: 413, no file, memory flat (S16, R15)', async () => {
    const user = await createUser(server.ctx, 'analyst');
    global.gc?.();
    const before = process.memoryUsage.rss();
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage.rss());
    }, 5);
    let result: Awaited<ReturnType<typeof streamUpload>>;
    try {
      result = await streamUpload(server, user.auth, 'huge.jsonl', 256 * MiB);
    } finally {
      clearInterval(sampler);
    }
    peak = Math.max(peak, process.memoryUsage.rss());
    expect(result.status).toBe(413);
    expect(result.body.code).toBe('payload_too_large');
    // The answer came long before the whole body was sent.
    expect(result.sent).toBeLessThan(256 * MiB);
    expect(peak - before).toBeLessThan(48 * MiB);
    expect(await filesUnder(userDir(user))).toEqual([]);
    expect(await filesUnder(join(server.dataDir, 'tmp'))).toEqual([]);
    // The server still answers on new connections.
    const after = await upload(server, 'sessions', user.auth, 'small.jsonl', '{}\n');
    expect(after.status).toBe(200);
  });

  it('POST /api/upload/local-md stores CLAUDE.local.md atomically and counts UTF-8 bytes', async () => {
    const content = '# Notes\n\nAlways use the `orders` table. ✓\n';
    const saved = await call(server, 'POST', '/api/upload/local-md', {
      auth: analyst.auth,
      body: { content },
    });
    expect(saved.status).toBe(200);
    expect(saved.body).toEqual({ status: 'ok', user: analyst.email, size: Buffer.byteLength(content) });
    const path = userDir(analyst, 'local_md', 'CLAUDE.local.md');
    expect(await readFile(path, 'utf8')).toBe(content);
    expect(await mode(path)).toBe(0o640);

    // 600 characters but 1,200 bytes: over the 1 KiB limit.
    const tooBig = await call(server, 'POST', '/api/upload/local-md', {
      auth: analyst.auth,
      body: { content: 'é'.repeat(600) },
    });
    expect(tooBig.status).toBe(413);
    expect(await readFile(path, 'utf8')).toBe(content);
    // A body far beyond the raised route limit is cut off by the JSON body limit, also 413.
    const huge = await call(server, 'POST', '/api/upload/local-md', {
      auth: analyst.auth,
      body: { content: 'x'.repeat(100 * 1024) },
    });
    expect(huge.status).toBe(413);
    const exact = await call(server, 'POST', '/api/upload/local-md', {
      auth: analyst.auth,
      body: { content: '\u0001'.repeat(1024) },
    });
    expect(exact.status).toBe(200);
    await call(server, 'POST', '/api/upload/local-md', { auth: analyst.auth, body: { content } });

    const extra = await call(server, 'POST', '/api/upload/local-md', {
      auth: analyst.auth,
      body: { content: 'x', path: '/etc/passwd' },
    });
    expect(extra.status).toBe(422);
    const audit = await server.ctx.repos.audit.list({ action: 'upload.local_md' }, { page: 1, per_page: 10 });
    expect(audit.items.length).toBeGreaterThan(0);
    expect(JSON.stringify(audit.items)).not.toContain('Always use');
  });

  it('GET /api/upload/mine lists pending and collected sessions, artifacts and local_md of the caller only', async () => {
    const collected = userDir(analyst, 'sessions', '2026', '03');
    await mkdir(collected, { recursive: true });
    await writeFile(join(collected, 'old-chat.jsonl'), '{}\n');
    const mine = await call(server, 'GET', '/api/upload/mine', { auth: analyst.auth });
    expect(mine.status).toBe(200);
    expect(mine.body.sessions).toEqual([
      expect.objectContaining({ filename: 'chat-2026.04.09_a.jsonl', collected: false }),
      expect.objectContaining({ filename: 'old-chat.jsonl', size: 3, collected: true }),
    ]);
    expect(mine.body.sessions[0].uploaded_at).toMatch(/Z$/);
    expect(mine.body.artifacts.map((a: { filename: string }) => a.filename)).toEqual([
      'chart.PNG',
      'report.html',
    ]);
    expect(mine.body.local_md).toMatchObject({ size: expect.any(Number) });
    expect(mine.text).not.toContain(server.dataDir);

    const fresh = await createUser(server.ctx, 'analyst');
    const empty = await call(server, 'GET', '/api/upload/mine', { auth: fresh.auth });
    expect(empty.body).toEqual({ sessions: [], artifacts: [], local_md: null });
  });

  it('never follows a symlink planted at uploads/<id>/artifacts', async () => {
    const victim = await createUser(server.ctx, 'analyst');
    const outside = join(server.dataDir, 'outside-target');
    await mkdir(outside, { recursive: true });
    await mkdir(userDir(victim), { recursive: true });
    await symlink(outside, userDir(victim, 'artifacts'));
    await writeFile(join(outside, 'existing.md'), 'not yours');

    const response = await upload(server, 'artifacts', victim.auth, 'note.md', 'payload');
    expect(response.status).toBe(500);
    expect(response.text).not.toContain(server.dataDir);
    expect(await readdir(outside)).toEqual(['existing.md']);
    expect(await filesUnder(join(server.dataDir, 'tmp'))).toEqual([]);

    const mine = await call(server, 'GET', '/api/upload/mine', { auth: victim.auth });
    expect(mine.body.artifacts).toEqual([]);
  });

  it('is for analysts and above', async () => {
    const response = await upload(server, 'sessions', viewer.auth, 'a.jsonl', '{}');
    expect(response.status).toBe(403);
    expect((await call(server, 'GET', '/api/upload/mine', { auth: viewer.auth })).status).toBe(403);
    expect((await call(server, 'GET', '/api/upload/mine')).status).toBe(401);
  });
});
