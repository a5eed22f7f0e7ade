import { readdir, readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await sourceFiles(path)));
    else if (/\.tsx?$/.test(entry.name)) out.push(path);
  }
  return out;
}

async function importsOf(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8');
  return [...text.matchAll(/(?:import|export)[^'"]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g)].map(
    (m) => m[1] ?? m[2] ?? '',
  );
}

/** Folder → the top-level folders of src/ it must never import (code-style guide, rule 4). */
const FORBIDDEN: Record<string, string[]> = {
  core: ['connectors', 'runtime', 'server', 'services', 'operator', 'cli', 'bin'],
  connectors: ['runtime', 'server', 'services', 'operator', 'cli', 'bin'],
  runtime: ['server', 'operator', 'cli', 'bin'],
  server: ['operator', 'cli', 'bin', 'connectors'],
};

describe('layering', () => {
  for (const [layer, forbidden] of Object.entries(FORBIDDEN)) {
    it(`src/${layer} imports nothing from ${forbidden.join(', ')}`, async () => {
      const violations: string[] = [];
      for (const file of await sourceFiles(join(ROOT, 'src', layer))) {
        for (const spec of await importsOf(file)) {
          if (!spec.startsWith('.')) continue;
          const target = relative(join(ROOT, 'src'), resolve(file, '..', spec)).split('/')[0] ?? '';
          if (forbidden.includes(target)) violations.push(`${relative(ROOT, file)} → ${spec}`);
        }
      }
      expect(violations).toEqual([]);
    });
  }
});
