import { readdir, readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const SRC = join(ROOT, 'src');

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await sourceFiles(path)));
    else if (/\.tsx?$/.test(entry.name)) out.push(path);
  }
  return out;
}

interface Import {
  file: string;
  spec: string;
  /** `import type` / `export type`: erased from the emitted JavaScript. */
  typeOnly: boolean;
  /** For a relative import: the path it points at, relative to src/. */
  target: string | null;
}

async function importsOf(file: string): Promise<Import[]> {
  const text = await readFile(file, 'utf8');
  return [...text.matchAll(/(?:import|export)[^'"]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g)].map(
    (m) => {
      const spec = m[1] ?? m[2] ?? '';
      return {
        file: relative(ROOT, file),
        spec,
        typeOnly: /^(?:import|export) type\b/.test(m[0]),
        target: spec.startsWith('.') ? relative(SRC, resolve(file, '..', spec)) : null,
      };
    },
  );
}

async function importsUnder(folder: string): Promise<Import[]> {
  const all = await Promise.all((await sourceFiles(join(SRC, folder))).map(importsOf));
  return all.flat();
}

const topFolder = (target: string) => target.split('/')[0] ?? '';
const show = (i: Import) => `${i.file} → ${i.spec}`;

/** Folder → the top-level folders of src/ it must never import (code-style guide, rule 4). */
const FORBIDDEN: Record<string, string[]> = {
  core: ['connectors', 'runtime', 'server', 'services', 'operator', 'cli', 'bin'],
  connectors: ['runtime', 'server', 'services', 'operator', 'cli', 'bin'],
  runtime: ['server', 'operator', 'cli', 'bin'],
  server: ['operator', 'cli', 'bin', 'connectors'],
  // A service (src/services) reaches the app only through its port: the runtime, the server or a
  // command provides it. It may use connectors' clients (the collector's LLM).
  services: ['runtime', 'server', 'operator', 'cli', 'bin'],
};

/**
 * Folder → the only other top-level folders of src/ it may import. The `da` CLI talks to the server
 * over HTTP alone, so it shares the contract and the core, never server code; the contract is
 * imported by every side, so it depends on none.
 */
const ONLY: Record<string, string[]> = {
  cli: ['core', 'contract'],
  contract: [],
};

describe('layering', () => {
  for (const [layer, forbidden] of Object.entries(FORBIDDEN)) {
    it(`src/${layer} imports nothing from ${forbidden.join(', ')}`, async () => {
      const violations = (await importsUnder(layer)).filter(
        (i) => i.target !== null && forbidden.includes(topFolder(i.target)),
      );
      expect(violations.map(show)).toEqual([]);
    });
  }

  for (const [layer, allowed] of Object.entries(ONLY)) {
    it(`src/${layer} imports from src/ only ${[layer, ...allowed].join(', ')}`, async () => {
      const violations = (await importsUnder(layer)).filter(
        (i) => i.target !== null && ![layer, ...allowed].includes(topFolder(i.target)),
      );
      expect(violations.map(show)).toEqual([]);
    });
  }

  it('src/contract imports no package but TypeBox', async () => {
    const packages = (await importsUnder('contract')).filter((i) => i.target === null);
    expect(packages.filter((i) => !i.spec.startsWith('@sinclair/typebox')).map(show)).toEqual([]);
  });

  it('the browser modules import the contract as types only, and nothing else outside their folder', async () => {
    // They are served as they are compiled: a value import of the contract would pull TypeBox
    // into the page, and the browser resolves no package names.
    const client = 'server/web/client';
    const violations = (await importsUnder(client)).filter((i) => {
      if (i.target === null) return !i.typeOnly;
      if (i.target.startsWith(`${client}/`)) return false;
      return !(topFolder(i.target) === 'contract' && i.typeOnly);
    });
    expect(violations.map(show)).toEqual([]);
  });
});
