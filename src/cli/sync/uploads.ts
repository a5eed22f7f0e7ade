import { createHash } from 'node:crypto';
import { openAsBlob } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256File } from '../../core/sync/hashing.js';
import type { ApiClient } from '../client.js';
import { CliError } from '../errors.js';
import type { TableError } from './plan.js';
import type { SyncState } from './state.js';

export interface UploadReport {
  sessions_uploaded: number;
  sessions_skipped: number;
  local_md: 'uploaded' | 'unchanged' | 'absent';
  errors: TableError[];
}

const SESSION_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}\.jsonl$/;

/**
 * A multipart form with one `file` field backed by the file on disk: streamed when sent, and
 * re-readable, so the client can send it again after a 429's Retry-After.
 */
async function multipartFile(path: string, name: string): Promise<FormData> {
  const form = new FormData();
  form.append('file', await openAsBlob(path, { type: 'application/octet-stream' }), name);
  return form;
}

/**
 * `da sync --upload-only` (06 §7 uploads): session transcripts and the local notes file, each only when
 * its content changed since the last upload. The client retries a 429 after its Retry-After.
 */
export async function uploadLocalFiles(
  client: ApiClient,
  state: SyncState,
  paths: { sessionsDir: string; localMd: string },
  save: () => Promise<void>,
): Promise<UploadReport> {
  const report: UploadReport = { sessions_uploaded: 0, sessions_skipped: 0, local_md: 'absent', errors: [] };
  const names = (await readdir(paths.sessionsDir).catch(() => [] as string[]))
    .filter((n) => SESSION_NAME.test(n))
    .sort();
  for (const name of names) {
    const path = join(paths.sessionsDir, name);
    const info = await stat(path).catch(() => null);
    if (!info?.isFile()) continue;
    const hash = await sha256File(path);
    if (state.uploads.sessions[name] === hash) {
      report.sessions_skipped += 1;
      continue;
    }
    try {
      await client.request('POST', '/api/upload/sessions', { rawBody: await multipartFile(path, name) });
      state.uploads.sessions[name] = hash;
      report.sessions_uploaded += 1;
      await save();
    } catch (error) {
      if (!(error instanceof CliError) || error.exitCode === 3) throw error;
      report.errors.push({ table: `sessions/${name}`, code: error.code, message: error.message });
    }
  }
  const content = await readFile(paths.localMd, 'utf8').catch(() => null);
  if (content !== null) {
    const hash = createHash('sha256').update(content).digest('hex');
    if (state.uploads.local_md === hash) report.local_md = 'unchanged';
    else {
      try {
        await client.request('POST', '/api/upload/local-md', { body: { content } });
        state.uploads.local_md = hash;
        report.local_md = 'uploaded';
        await save();
      } catch (error) {
        if (!(error instanceof CliError) || error.exitCode === 3) throw error;
        report.errors.push({ table: 'local_md', code: error.code, message: error.message });
      }
    }
  }
  return report;
}
