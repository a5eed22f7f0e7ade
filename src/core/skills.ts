import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The bundled guides for AI agents (06 §9): `da skills` prints and installs them, and both MCP
 * servers offer them as prompts (14 §2). The build copies src/cli/skills to dist/cli/skills, so
 * this module finds them beside its own compiled location too.
 */
export const SKILLS_DIR = fileURLToPath(new URL('../cli/skills/', import.meta.url));

export interface Skill {
  name: string;
  title: string;
  summary: string;
  body: string;
}

/** `# Title` on the first line, then a one-sentence summary. */
export function parseSkill(name: string, body: string): Skill {
  const lines = body.split('\n');
  const title = lines[0]?.startsWith('# ') ? lines[0].slice(2).trim() : name;
  const paragraph = lines.slice(1).find((line) => line.trim() !== '') ?? '';
  const summary = paragraph.match(/^.*?[.!?](?=\s|$)/)?.[0] ?? paragraph.trim();
  return { name, title, summary, body };
}

export async function loadSkills(): Promise<Skill[]> {
  const files = (await readdir(SKILLS_DIR)).filter((f) => f.endsWith('.md')).sort();
  return Promise.all(
    files.map(async (file) => parseSkill(file.slice(0, -3), await readFile(join(SKILLS_DIR, file), 'utf8'))),
  );
}
