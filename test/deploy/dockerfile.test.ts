import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AGNES_BIN, PACKAGE_ROOT } from '../../src/core/package-info.js';

/**
 * The Dockerfile's shape (13 §1, 01 §9), read instruction by instruction: where no Docker runs,
 * this is what can be known of the image without building it (compose.test.ts builds it where
 * Docker answers).
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const BASE = 'node:20-bookworm-slim';

interface Instruction {
  keyword: string;
  args: string;
}
interface Stage {
  base: string;
  name: string | null;
  instructions: Instruction[];
}

/** Instructions with their continuation lines joined, comments and the parser directive left out. */
function instructions(text: string): Instruction[] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [keyword = '', ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    });
}

function stages(text: string): Stage[] {
  const result: Stage[] = [];
  for (const instruction of instructions(text)) {
    if (instruction.keyword === 'FROM') {
      const [base = '', as, name] = instruction.args.split(/\s+/);
      result.push({ base, name: as?.toUpperCase() === 'AS' && name ? name : null, instructions: [] });
    } else result.at(-1)?.instructions.push(instruction);
  }
  return result;
}

const STAGES = stages(read('Dockerfile'));
const RUNTIME = STAGES.at(-1) as Stage;
const all = (stage: Stage, keyword: string) =>
  stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
const only = (stage: Stage, keyword: string) => {
  const found = all(stage, keyword);
  expect(found, keyword).toHaveLength(1);
  return found[0] as string;
};

/** The stages a stage is built on, itself first. */
function lineage(stage: Stage): Stage[] {
  const parent = STAGES.find((s) => s.name === stage.base);
  return parent ? [stage, ...lineage(parent)] : [stage];
}

/** The stage whose `path` the runtime copies, with the commands that produced it. */
function copiedFrom(path: string): string[] {
  const copy = all(RUNTIME, 'COPY').find((args) => args.startsWith('--from=') && args.includes(` ${path} `));
  expect(copy, `COPY --from=… ${path}`).toBeDefined();
  const name = /^--from=(\S+)/.exec(copy as string)?.[1];
  const stage = STAGES.find((s) => s.name === name) as Stage;
  return lineage(stage).flatMap((s) => all(s, 'RUN'));
}

/** Whether `.dockerignore` lets a path into the build context: the last matching pattern decides. */
function admitted(path: string, patterns: string[]): boolean {
  let admit = true;
  for (const pattern of patterns) {
    const negated = pattern.startsWith('!');
    const body = negated ? pattern.slice(1) : pattern;
    if (body === '*' || path === body || path.startsWith(`${body}/`)) admit = negated;
  }
  return admit;
}

describe('Dockerfile', () => {
  it('builds every stage on Node 20 on Debian slim and runs on that image alone', () => {
    const names = new Set(STAGES.map((s) => s.name));
    for (const stage of STAGES) expect(stage.base === BASE || names.has(stage.base), stage.base).toBe(true);
    expect(RUNTIME.base).toBe(BASE);
    expect(STAGES.length).toBeGreaterThan(1);
  });

  it('compiles with the dev dependencies and runs with the production ones only', () => {
    const dist = copiedFrom('/app/dist');
    expect(dist).toContain('npm ci --no-audit --no-fund');
    expect(dist).toContain('npm run build');
    const modules = copiedFrom('/app/node_modules');
    expect(modules).toContain('npm ci --omit=dev --no-audit --no-fund');
    expect(modules.filter((command) => /npm ci(?! --omit=dev)/.test(command))).toEqual([]);
    expect(all(RUNTIME, 'RUN').join(' ')).not.toMatch(/npm (ci|install)/);
  });

  it('copies what the package reads at run time, where it reads it', () => {
    expect(only(RUNTIME, 'WORKDIR')).toBe('/app');
    const copied = all(RUNTIME, 'COPY').map((args) => args.split(/\s+/).at(-1));
    expect(copied).toEqual(
      expect.arrayContaining(['./node_modules', './dist', './', './docker/healthcheck.mjs']),
    );
    expect(all(RUNTIME, 'COPY')).toContain('package.json ./');
    const bin = JSON.parse(read('package.json')).bin.agnes as string;
    expect(relative(PACKAGE_ROOT, AGNES_BIN)).toBe(bin);
    expect(JSON.parse(only(RUNTIME, 'ENTRYPOINT'))).toEqual(['node', `/app/${bin}`]);
    expect(JSON.parse(only(RUNTIME, 'CMD'))).toEqual(['serve']);
  });

  it('runs as agnes (uid 10001) with DATA_DIR=/data on a volume, port 8000 and a health check', () => {
    const setup = all(RUNTIME, 'RUN').join(' ');
    expect(setup).toMatch(/useradd --uid 10001 --gid agnes .* agnes\b/);
    expect(setup).toContain('chown agnes:agnes /data');
    expect(setup).toMatch(/apt-get install -y --no-install-recommends [^&]*\bbubblewrap\b/);
    expect(only(RUNTIME, 'USER')).toBe('agnes');
    expect(all(RUNTIME, 'ENV').join(' ')).toMatch(/(^|\s)DATA_DIR=\/data(\s|$)/);
    expect(only(RUNTIME, 'VOLUME')).toBe('/data');
    expect(only(RUNTIME, 'EXPOSE')).toBe('8000');
    expect(only(RUNTIME, 'HEALTHCHECK')).toMatch(/ CMD \["node", "\/app\/docker\/healthcheck\.mjs"\]$/);
  });

  it('builds from files that exist and that .dockerignore lets in, and from nothing else of the host', () => {
    const patterns = read('.dockerignore')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
    expect(patterns[0]).toBe('*');
    const sources = STAGES.flatMap((stage) => all(stage, 'COPY'))
      .filter((args) => !args.startsWith('--from='))
      .flatMap((args) => args.split(/\s+/).slice(0, -1));
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      expect(existsSync(join(ROOT, source)), source).toBe(true);
      expect(admitted(source, patterns), source).toBe(true);
    }
    for (const hostOnly of ['.env', 'secrets/scheduler-token', 'node_modules', 'dist', 'data', '.git'])
      expect(admitted(hostOnly, patterns), hostOnly).toBe(false);
  });
});
