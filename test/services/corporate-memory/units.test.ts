import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Cursor } from '../../../src/services/corporate-memory/cursor.js';
import { containsSecret, redactSecrets } from '../../../src/services/corporate-memory/redact.js';
import { lastChars, userMessages } from '../../../src/services/corporate-memory/transcript.js';

describe('redaction', () => {
  it('redacts a whole private key block, also one whose END line is missing', () => {
    const key = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcw';
    const closed = `before\n-----BEGIN PRIVATE KEY-----\n${key}\n-----END PRIVATE KEY-----\nafter`;
    expect(redactSecrets(closed)).toBe('before\n[redacted]\nafter');
    expect(redactSecrets(`x -----BEGIN OPENSSH PRIVATE KEY-----\n${key}\n${key}`)).toBe('x [redacted]');
  });

  it('redacts before the cut, so a cut through a key leaves none of it', () => {
    const key = 'A'.repeat(100);
    const text = `-----BEGIN RSA PRIVATE KEY-----\n${key}\n-----END RSA PRIVATE KEY-----\n${'n'.repeat(60)}`;
    expect(lastChars(redactSecrets(text), 80)).not.toContain('AAAA');
  });

  it('finds quoted, spaced and case-varied assignments and credentials in URLs', () => {
    for (const text of [
      '"password": "hunter2"',
      'DB_PASSWORD = hunter2',
      'Api-Key: abc',
      'HTTPS://bob:pw@host/x',
      'mail me: someone@sub.example.co.uk',
    ])
      expect(containsSecret(text), text).toBe(true);
    expect(containsSecret('the password policy is strict')).toBe(false);
    // A pattern's global state never leaks between calls.
    expect([containsSecret('AKIAIOSFODNN7EXAMPLE'), containsSecret('AKIAIOSFODNN7EXAMPLE')]).toEqual([
      true,
      true,
    ]);
  });
});

describe('transcript reduction', () => {
  it("keeps the user's own text only", () => {
    const lines = [
      { type: 'user', message: { role: 'user', content: 'plain' } },
      {
        type: 'user',
        message: {
          role: 'user',
          content: [
            { type: 'text', text: 'block' },
            { type: 'tool_result', content: 'tool' },
          ],
        },
      },
      { type: 'user', message: { role: 'assistant', content: 'spoofed role' } },
      { type: 'assistant', message: { role: 'assistant', content: 'answer' } },
    ];
    expect(userMessages(`${lines.map((l) => JSON.stringify(l)).join('\n')}\nnot json\n`)).toBe(
      'plain\n\nblock',
    );
  });
});

describe('cursor', () => {
  it('counts strikes per content, forgets them on success, and keeps only listed files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'agnes-cursor-'));
    try {
      const path = join(dir, 'nested', 'cursor.json');
      const cursor = await Cursor.load(path);
      for (let i = 0; i < 3; i++) {
        expect(cursor.decide('a', 'h1')).toBe('process');
        cursor.failed('a', 'h1');
      }
      expect(cursor.decide('a', 'h1')).toBe('gave_up');
      expect(cursor.decide('a', 'h2')).toBe('process');
      cursor.completed('a', 'h2');
      cursor.completed('b', 'h3');
      expect(cursor.retainOnly(new Set(['a']))).toBe(true);
      await cursor.save();
      const again = await Cursor.load(path);
      expect(again.decide('a', 'h2')).toBe('unchanged');
      expect(again.decide('b', 'h3')).toBe('process');
      expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ files: { a: { sha256: 'h2' } } });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
