import { randomUUID } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function errorCode(error: unknown): unknown {
  return typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
}

/**
 * A secret kept in `DATA_DIR/state/<name>` (mode 0600): read back on every later start, generated
 * the first time or when what the file holds is unusable. Processes starting together on one data
 * directory agree on one value: the file appears whole, by a hard link that fails if another
 * process created it first, whose value is then kept.
 */
export function stateSecret(
  dataDir: string,
  name: string,
  secret: { generate: () => string; usable: (stored: string) => boolean },
): string {
  const stateDir = join(dataDir, 'state');
  const file = join(stateDir, name);
  const stored = (): string | null => {
    try {
      const text = readFileSync(file, 'utf8').trim();
      return secret.usable(text) ? text : null;
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return null;
      throw error;
    }
  };
  const existing = stored();
  if (existing !== null) return existing;
  mkdirSync(stateDir, { recursive: true, mode: 0o750 });
  const generated = secret.generate();
  const temp = `${file}.${randomUUID()}.tmp`;
  writeFileSync(temp, `${generated}\n`, { mode: 0o600 });
  try {
    try {
      linkSync(temp, file);
      return generated;
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw error;
    }
    const raced = stored();
    if (raced !== null) return raced;
    renameSync(temp, file);
    return generated;
  } finally {
    rmSync(temp, { force: true });
  }
}
