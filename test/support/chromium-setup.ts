import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { TestProject } from 'vitest/node';

/**
 * Global setup of the browser project: `npm test` must work on a fresh machine with no step the
 * README does not show, so the browser tests find Debian's Chromium, install it where the machine
 * allows, and otherwise stop the whole run before any test with one message that says how to
 * fix it. A suite that cannot launch a browser is never reported as skipped or green.
 */

declare module 'vitest' {
  export interface ProvidedContext {
    chromiumPath: string;
  }
}

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/snap/bin/chromium'];
const INSTALL_HINT = 'sudo apt-get install -y chromium';

function isExecutable(path: string): boolean {
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

/** `CHROMIUM_PATH` when set (and then only it), else the first Debian or snap location present. */
function findChromium(env: NodeJS.ProcessEnv, candidates: readonly string[]): string | null {
  const chosen = env.CHROMIUM_PATH?.trim();
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

function installChromium(prefix: string[]): boolean {
  process.stdout.write(
    "\nBrowser tests need Chromium and none is installed: installing Debian's chromium with apt-get (a minute or two, once)…\n",
  );
  const installed =
    apt(prefix, ['update', '-qq']) &&
    apt(prefix, ['install', '-y', '-qq', '--no-install-recommends', 'chromium']);
  process.stdout.write(installed ? 'Chromium installed.\n\n' : 'Installing Chromium failed.\n\n');
  return installed;
}

export class MissingBrowserError extends Error {
  constructor(reason: string) {
    super(
      `Browser tests need Chromium: ${reason}. Install it with \`${INSTALL_HINT}\` ` +
        '(or set CHROMIUM_PATH to a Chromium binary), then run `npm test` again.',
    );
    this.name = 'MissingBrowserError';
    // The message is the whole story; a stack into this file would only bury it.
    this.stack = `${this.name}: ${this.message}`;
  }
}

/** The Chromium to launch: found, or installed when the machine allows; else a MissingBrowserError. */
export function resolveChromium(env: NodeJS.ProcessEnv = process.env, candidates = CANDIDATES): string {
  const found = findChromium(env, candidates);
  if (found) return found;
  if (env.CHROMIUM_PATH?.trim())
    throw new MissingBrowserError(`CHROMIUM_PATH=${env.CHROMIUM_PATH} is not an executable file`);
  const prefix = aptRunner(env);
  if (!prefix)
    throw new MissingBrowserError(
      `none was found at ${candidates.join(', ')}, and this machine cannot install it here (that needs apt-get and root or passwordless sudo)`,
    );
  const installed = installChromium(prefix) ? findChromium(env, candidates) : null;
  if (!installed)
    throw new MissingBrowserError('installing Debian’s chromium with apt-get failed (see the lines above)');
  return installed;
}

export default function setup(project: TestProject): void {
  try {
    project.provide('chromiumPath', resolveChromium());
  } catch (error) {
    if (!(error instanceof MissingBrowserError)) throw error;
    // Stopping here, before any worker starts, keeps the run from printing a test summary that
    // would read as a result: nothing ran, and the one line says why.
    process.stderr.write(`\n${error.message}\n`);
    process.exit(1);
  }
}
