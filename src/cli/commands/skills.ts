import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadSkills, type Skill } from '../../core/skills.js';
import type { CliContext } from '../context.js';
import { CliError, EXIT } from '../errors.js';

/** Marks a SKILL.md as ours, so `install` never overwrites a file somebody else wrote. */
const MARKER = '<!-- written by `da skills install`; reinstalling replaces this file -->';

async function skill(name: string): Promise<Skill> {
  const match = (await loadSkills()).find((s) => s.name === name);
  if (!match)
    throw new CliError(EXIT.notFound, `no skill ${name}; list them with: da skills list`, 'not_found');
  return match;
}

export async function list(ctx: CliContext): Promise<void> {
  const skills = await loadSkills();
  const width = Math.max(...skills.map((s) => s.name.length));
  ctx.out.result({ skills: skills.map(({ name, title, summary }) => ({ name, title, summary })) }, () =>
    skills.map((s) => `${s.name.padEnd(width)}  ${s.summary}`).join('\n'),
  );
}

export async function show(ctx: CliContext, name: string): Promise<void> {
  const found = await skill(name);
  ctx.out.result(
    { name: found.name, title: found.title, summary: found.summary, markdown: found.body },
    () => found.body,
  );
}

export async function install(ctx: CliContext, options: { dir?: string }): Promise<void> {
  const dir = options.dir ? resolve(options.dir) : join(ctx.localDir, '.claude', 'skills');
  const written: string[] = [];
  const kept: string[] = [];
  for (const s of await loadSkills()) {
    const path = join(dir, `agnes-${s.name}`, 'SKILL.md');
    const existing = await readFile(path, 'utf8').catch(() => null);
    if (existing !== null && !existing.includes(MARKER)) {
      ctx.out.warn(`${path} was not written by da; left alone`);
      kept.push(path);
      continue;
    }
    const frontMatter = `---\nname: agnes-${s.name}\ndescription: ${JSON.stringify(s.summary)}\n---\n${MARKER}\n\n`;
    await mkdir(join(dir, `agnes-${s.name}`), { recursive: true });
    await writeFile(path, frontMatter + s.body);
    written.push(path);
  }
  ctx.out.result({ dir, written, kept }, () => `Installed ${written.length} skills in ${dir}`);
}
