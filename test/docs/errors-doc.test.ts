import { readdir, readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_STATUS } from '../../src/core/errors.js';

/** docs/errors.md lists every error code the API can answer, and nothing else (guide, rules 7 and 8). */

const ROOT = resolve(import.meta.dirname, '../..');

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await sourceFiles(path)));
    else if (/\.tsx?$/.test(entry.name)) out.push(path);
  }
  return out;
}

/** The `| \`code\` | status | when |` rows of the table. */
async function documented(): Promise<Map<string, number>> {
  const text = await readFile(join(ROOT, 'docs', 'errors.md'), 'utf8');
  return new Map([...text.matchAll(/^\| `([a-z_]+)` +\| (\d{3}) +\|/gm)].map((m) => [m[1]!, Number(m[2])]));
}

/**
 * Codes written in the source: every `new AgnesError('<code>'`, and the literal codes of the error
 * bodies built without one (the error handler, the not-found and framework handlers, the HTTP
 * parser's handler), found in the files that write `request_id` next to `detail`.
 */
async function usedInSource(): Promise<Map<string, string[]>> {
  const used = new Map<string, string[]>();
  const note = (code: string, file: string) => used.set(code, [...(used.get(code) ?? []), file]);
  for (const path of await sourceFiles(join(ROOT, 'src'))) {
    const text = await readFile(path, 'utf8');
    const file = relative(ROOT, path);
    for (const m of text.matchAll(/new AgnesError\(\s*'([^']+)'/g)) note(m[1]!, file);
    if (!/\brequest_id\b/.test(text) || !/\bdetail\b/.test(text)) continue;
    for (const m of text.matchAll(/\bcode(?:\s*:\s*ErrorCode)?\s*(?::|=(?!=))\s*([^,;}]+)/g))
      for (const literal of m[1]!.matchAll(/'([^']+)'/g)) note(literal[1]!, file);
  }
  return used;
}

describe('docs/errors.md', () => {
  it('documents every code of the registry, with its status', async () => {
    const docs = await documented();
    const missing = Object.keys(ERROR_STATUS).filter((code) => !docs.has(code));
    expect(missing, 'codes of ERROR_STATUS missing from docs/errors.md').toEqual([]);
    const wrongStatus = Object.entries(ERROR_STATUS)
      .filter(([code, status]) => docs.has(code) && docs.get(code) !== status)
      .map(([code, status]) => `${code}: documented ${docs.get(code)}, registry ${status}`);
    expect(wrongStatus).toEqual([]);
  });

  it('documents every code the source answers with, and each is in the registry', async () => {
    const docs = await documented();
    const used = await usedInSource();
    // Guards the scan itself: it must see the codes of the error handler and the parser's handler.
    expect([...used.keys()]).toEqual(
      expect.arrayContaining(['not_found', 'validation_failed', 'request_timeout']),
    );
    const undocumented = [...used]
      .filter(([code]) => !docs.has(code))
      .map(([code, files]) => `${code} (${files[0]})`);
    expect(undocumented, 'codes used in src/ missing from docs/errors.md').toEqual([]);
    const unregistered = [...used.keys()].filter((code) => !Object.hasOwn(ERROR_STATUS, code));
    expect(unregistered, 'codes used in src/ missing from ERROR_STATUS').toEqual([]);
  });

  it('documents only codes that exist', async () => {
    const stale = [...(await documented()).keys()].filter((code) => !Object.hasOwn(ERROR_STATUS, code));
    expect(stale, 'codes in docs/errors.md that ERROR_STATUS does not have').toEqual([]);
  });
});
