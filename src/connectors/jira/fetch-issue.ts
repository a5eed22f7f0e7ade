import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { DIR_MODE } from '../../core/fs/atomic.js';
import type { Logger } from '../../core/jobs/logger.js';
import type { JiraClient } from './client.js';
import { isObject } from './files.js';
import { isAttachmentId } from './names.js';
import type { RawStore } from './raw-store.js';
import type { RawIssue } from './transform.js';

/** What fetching an issue's whole document needs (07 §5.2). */
export interface IssueFetcher {
  client: JiraClient;
  /** The SLA overlay: its own account and the field ids it reads; null without `jira.sla`. */
  sla: { client: JiraClient; fields: readonly string[] } | null;
  raw: RawStore;
  attachments: { download: boolean; maxBytes: number };
  log: Logger;
}

/**
 * One GET of the issue, then its full changelog, every comment and its remote links, and the SLA
 * fields through the SLA account when configured. Throws `JiraError` (a 404 is `not_found`).
 */
export async function fetchIssue(fetcher: IssueFetcher, keyOrId: string, now: string): Promise<RawIssue> {
  const { client } = fetcher;
  const issue = await client.issue(keyOrId);
  const [changelog, comments, remoteLinks] = await Promise.all([
    client.changelog(issue.key),
    client.comments(issue.key),
    client.remoteLinks(issue.key),
  ]);
  const fields = { ...issue.fields };
  if (fetcher.sla) {
    const overlay = await fetcher.sla.client.fields(issue.key, fetcher.sla.fields);
    for (const id of fetcher.sla.fields) if (id in overlay) fields[id] = overlay[id];
  }
  return {
    ...issue,
    fields,
    _synced_at: now,
    _comments: comments,
    _changelog: changelog,
    _remote_links: remoteLinks,
  };
}

/**
 * Brings `raw/attachments/<KEY>/` in line with the issue's attachments (07 §5.3, §5.7): new ones
 * are streamed from the configured host only, files of removed attachments are deleted, and a
 * download that fails or is too large leaves that attachment without a local copy.
 */
export async function syncAttachments(fetcher: IssueFetcher, doc: RawIssue): Promise<string[]> {
  const dir = fetcher.raw.attachmentDir(doc.key);
  const attachments = (Array.isArray(doc.fields.attachment) ? doc.fields.attachment : []).filter(isObject);
  const wanted = new Map<string, unknown>();
  for (const a of attachments) {
    const id = String(a.id ?? '');
    if (isAttachmentId(id)) wanted.set(id, a.content);
  }
  for (const name of await readdir(dir).catch(() => [] as string[]))
    if (!wanted.has(name)) await rm(`${dir}/${name}`, { recursive: true, force: true });
  if (!fetcher.attachments.download) return [];
  const local: string[] = [];
  for (const [id, contentUrl] of wanted) {
    const path = fetcher.raw.attachmentPath(doc.key, id);
    if (await stat(path).catch(() => null)) {
      local.push(id);
      continue;
    }
    await mkdir(dir, { recursive: true, mode: DIR_MODE });
    try {
      await fetcher.client.downloadAttachment(id, contentUrl, `${path}.part`, fetcher.attachments.maxBytes);
      await rename(`${path}.part`, path);
      local.push(id);
    } catch (error) {
      fetcher.log.warn(
        { issue: doc.key, attachment: id, err: error instanceof Error ? error.message : String(error) },
        'attachment not downloaded',
      );
    }
  }
  return local.sort();
}
