import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The CLI's own files (06 §2): config, credentials per server, sync state per (server, dir). */

export interface CliConfig {
  server?: string;
  parallel?: number;
}

export interface Credential {
  token: string;
  token_id: string | null;
  token_name: string | null;
  email: string | null;
  expires_at: string | null;
}

export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DA_CONFIG_DIR) return env.DA_CONFIG_DIR;
  const base = env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(base, 'da');
}

async function ensureDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
}

async function readJson<T>(path: string, fallback: T): Promise<T> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return fallback;
    throw error;
  }
}

/** Written 0600 through a temp file and a rename, so a crash never leaves half a credential. */
export async function writePrivateJson(path: string, value: unknown): Promise<void> {
  const temp = `${path}.tmp-${randomBytes(4).toString('hex')}`;
  await writeFile(temp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  await chmod(temp, 0o600);
  await rename(temp, path);
}

export class LocalStore {
  readonly dir: string;
  /** Warnings to show the user (e.g. a credentials file that had to be re-secured). */
  readonly warnings: string[] = [];

  constructor(env: NodeJS.ProcessEnv = process.env) {
    this.dir = configDir(env);
  }

  get configPath(): string {
    return join(this.dir, 'config.json');
  }

  get credentialsPath(): string {
    return join(this.dir, 'credentials.json');
  }

  async readConfig(): Promise<CliConfig> {
    return readJson<CliConfig>(this.configPath, {});
  }

  async writeConfig(config: CliConfig): Promise<void> {
    await ensureDir(this.dir);
    await writePrivateJson(this.configPath, config);
  }

  async #credentials(): Promise<Record<string, Credential>> {
    const info = await stat(this.credentialsPath).catch(() => null);
    if (info && (info.mode & 0o077) !== 0) {
      await chmod(this.credentialsPath, 0o600);
      this.warnings.push(
        `${this.credentialsPath} was readable by others; its permissions were reset to 0600`,
      );
    }
    return readJson<Record<string, Credential>>(this.credentialsPath, {});
  }

  async credentialFor(server: string): Promise<Credential | null> {
    return (await this.#credentials())[server] ?? null;
  }

  async saveCredential(server: string, credential: Credential): Promise<void> {
    await ensureDir(this.dir);
    const all = await this.#credentials();
    all[server] = credential;
    await writePrivateJson(this.credentialsPath, all);
  }

  async removeCredential(server: string): Promise<void> {
    const all = await this.#credentials();
    if (!(server in all)) return;
    delete all[server];
    if (Object.keys(all).length === 0) await rm(this.credentialsPath, { force: true });
    else await writePrivateJson(this.credentialsPath, all);
  }

  syncStatePath(server: string, localDir: string): string {
    const key = createHash('sha256').update(`${server}\n${localDir}`).digest('hex').slice(0, 16);
    return join(this.dir, 'sync', `${key}.json`);
  }

  async ensureSyncDir(): Promise<void> {
    await ensureDir(join(this.dir, 'sync'));
  }
}

/** One spelling of a server URL: origin plus path, no trailing slash. */
export function normaliseServer(url: string): string {
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new Error('server must be an http(s) URL');
  return `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`;
}
