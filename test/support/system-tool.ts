import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * What the global setups of test projects that need a program from Debian share (Chromium for the
 * browser tests, bubblewrap for the script sandbox, docker-compose for the Docker files): find it,
 * install it with apt-get where the machine allows (root or passwordless sudo), and otherwise refuse with one message naming the
 * install command, so `npm test` works on a fresh machine or stops before any test says why.
 */

export interface SystemTool {
  /** What it is, for messages: "Browser tests need Chromium". */
  purpose: string;
  /** Its name in messages: "Chromium". */
  label: string;
  /** The Debian package apt-get installs. */
  debianPackage: string;
  /** The variable that names the binary to use instead of searching (then only it). */
  envVar: string;
  candidates: readonly string[];
}

export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(command: string, env: NodeJS.ProcessEnv): boolean {
  return (env.PATH ?? '').split(delimiter).some((dir) => dir && isExecutable(join(dir, command)));
}

/** The variable's path when it is set (and then only it), else the first candidate present. */
function find(tool: SystemTool, env: NodeJS.ProcessEnv, candidates: readonly string[]): string | null {
  const chosen = env[tool.envVar]?.trim();
  if (chosen) return isExecutable(chosen) ? chosen : null;
  return candidates.find(isExecutable) ?? null;
}

/** How this process may run apt-get: directly as root, through passwordless sudo, or not at all. */
function aptRunner(env: NodeJS.ProcessEnv): string[] | null {
  if (!onPath('apt-get', env)) return null;
  if (process.getuid?.() === 0) return [];
  if (onPath('sudo', env) && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0)
    return ['sudo', '-n'];
  return null;
}

function apt(prefix: string[], args: string[]): boolean {
  const argv = [...prefix, 'apt-get', ...args];
  const result = spawnSync(argv[0] as string, argv.slice(1), {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return result.status === 0;
}

function install(tool: SystemTool, prefix: string[]): boolean {
  process.stdout.write(
    `\n${tool.purpose} and none is installed: installing Debian's ${tool.debianPackage} with apt-get (once)…\n`,
  );
  const installed =
    apt(prefix, ['update', '-qq']) &&
    apt(prefix, ['install', '-y', '-qq', '--no-install-recommends', tool.debianPackage]);
  process.stdout.write(installed ? `${tool.label} installed.\n\n` : `Installing ${tool.label} failed.\n\n`);
  return installed;
}

export class MissingToolError extends Error {
  constructor(tool: SystemTool, reason: string) {
    super(
      `${tool.purpose}: ${reason}. Install it with \`sudo apt-get install -y ${tool.debianPackage}\` ` +
        `(or set ${tool.envVar} to a ${tool.label} binary), then run \`npm test\` again.`,
    );
    this.name = 'MissingToolError';
    // The message is the whole story; a stack into this file would only bury it.
    this.stack = `${this.name}: ${this.message}`;
  }
}

/** The binary to use: found, or installed when the machine allows; else a MissingToolError. */
export function resolveTool(
  tool: SystemTool,
  env: NodeJS.ProcessEnv = process.env,
  candidates: readonly string[] = tool.candidates,
): string {
  const found = find(tool, env, candidates);
  if (found) return found;
  const chosen = env[tool.envVar];
  if (chosen?.trim()) throw new MissingToolError(tool, `${tool.envVar}=${chosen} is not an executable file`);
  const prefix = aptRunner(env);
  if (!prefix)
    throw new MissingToolError(
      tool,
      `none was found at ${candidates.join(', ')}, and this machine cannot install it here (that needs apt-get and root or passwordless sudo)`,
    );
  const installed = install(tool, prefix) ? find(tool, env, candidates) : null;
  if (!installed)
    throw new MissingToolError(
      tool,
      `installing Debian’s ${tool.debianPackage} with apt-get failed (see the lines above)`,
    );
  return installed;
}

/**
 * Runs a global setup step: a MissingToolError stops the whole run before any worker starts, so
 * no test summary reads as a result when nothing ran; the one line says why.
 */
export function provideOrStop(provide: () => void): void {
  try {
    provide();
  } catch (error) {
    if (!(error instanceof MissingToolError)) throw error;
    process.stderr.write(`\n${error.message}\n`);
    process.exit(1);
  }
}
