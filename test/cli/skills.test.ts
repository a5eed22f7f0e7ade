import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Command, CommanderError } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { daProgram } from '../../src/cli/program.js';
import { loadSkills } from '../../src/core/skills.js';
import { type CliHome, cliHome, runDa } from '../support/cli.js';

/** The guides 06 §9 requires. */
const REQUIRED = [
  'access',
  'admin',
  'alerts-and-notifications',
  'connectors',
  'corporate-memory',
  'exploring-data',
  'getting-started',
  'querying',
  'sync',
  'troubleshoot',
];

/** Splits a shell command line into words, honouring single and double quotes. */
function shellWords(line: string): string[] {
  const words: string[] = [];
  const pattern = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (const match of line.matchAll(pattern)) words.push(match[1] ?? match[2] ?? match[3]!);
  return words;
}

/** Every line starting with `da ` inside a fenced code block. */
function commandLines(markdown: string): string[] {
  const lines: string[] = [];
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    else if (fenced && line.startsWith('da ')) lines.push(line.trim());
  }
  return lines;
}

class Parsed extends Error {}

/** Parses `line` with the real commander tree; actions never run. Returns the commander error, if any. */
async function parseError(line: string): Promise<string | null> {
  const program = daProgram();
  const silence = (command: Command) => {
    command.configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
    for (const sub of command.commands) silence(sub);
  };
  silence(program);
  program.hook('preAction', () => {
    throw new Parsed();
  });
  try {
    await program.parseAsync(shellWords(line), { from: 'user' });
    return 'no command ran';
  } catch (error) {
    if (error instanceof Parsed) return null;
    if (error instanceof CommanderError) return error.message;
    throw error;
  }
}

describe('bundled skills', () => {
  it('has every guide of 06 §9, each with a title and a one-sentence summary', async () => {
    const skills = await loadSkills();
    expect(skills.map((s) => s.name)).toEqual(REQUIRED);
    for (const skill of skills) {
      expect(skill.body.startsWith(`# ${skill.title}\n`), skill.name).toBe(true);
      expect(skill.summary, skill.name).toMatch(/^\S.{10,200}[.!?]$/);
    }
  });

  it('every da command line in the guides parses against the real program', async () => {
    const failures: string[] = [];
    let count = 0;
    for (const skill of await loadSkills()) {
      for (const line of commandLines(skill.body)) {
        count += 1;
        const error = await parseError(line.slice('da '.length));
        if (error) failures.push(`${skill.name}: ${line} → ${error}`);
      }
    }
    expect(count).toBeGreaterThan(60);
    expect(failures).toEqual([]);
  });

  it('the parse check catches unknown commands, unknown flags and missing arguments', async () => {
    expect(await parseError('admin users frobnicate')).toMatch(/unknown command/);
    expect(await parseError('query "SELECT 1" --bogus')).toMatch(/unknown option/);
    expect(await parseError('admin groups add-member finance')).toMatch(/missing required argument/);
    expect(await parseError('admin permissions grant --user a@example.com')).toMatch(/required option/);
    expect(await parseError('query "SELECT 1" --format xml')).toMatch(/Allowed choices/);
  });
});

describe('da skills', { timeout: 120_000 }, () => {
  let home: CliHome;
  beforeAll(async () => {
    home = await cliHome();
  });
  afterAll(async () => home.cleanup());

  it('lists and shows the guides bundled with the built CLI; an unknown name exits 5', async () => {
    const list = await runDa(['skills', 'list', '--json'], { env: home.env });
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout).skills.map((s: { name: string }) => s.name)).toEqual(REQUIRED);
    const show = await runDa(['skills', 'show', 'querying'], { env: home.env });
    expect(show.stdout.startsWith('# Querying data\n')).toBe(true);
    const unknown = await runDa(['skills', 'show', 'nope'], { env: home.env });
    expect(unknown.code).toBe(5);
    expect(unknown.stderr).toBe('error: no skill nope; list them with: da skills list\n');
  });

  it('installs SKILL.md files with front matter, replacing only files it wrote', async () => {
    const dir = join(home.root, 'skills');
    const foreign = join(dir, 'agnes-admin', 'SKILL.md');
    await mkdir(join(dir, 'agnes-admin'), { recursive: true });
    await writeFile(foreign, 'my own notes\n');
    const first = await runDa(['skills', 'install', '--dir', dir, '--json'], { env: home.env });
    expect(first.code).toBe(0);
    const doc = JSON.parse(first.stdout);
    expect(doc.written).toHaveLength(REQUIRED.length - 1);
    expect(doc.kept).toEqual([foreign]);
    expect(await readFile(foreign, 'utf8')).toBe('my own notes\n');
    const sync = await readFile(join(dir, 'agnes-sync', 'SKILL.md'), 'utf8');
    expect(sync).toMatch(/^---\nname: agnes-sync\ndescription: ".+"\n---\n/);
    expect(sync).toContain('# Syncing data');
    const again = await runDa(['skills', 'install', '--dir', dir, '--json'], { env: home.env });
    expect(JSON.parse(again.stdout).written).toHaveLength(REQUIRED.length - 1);
  });
});
