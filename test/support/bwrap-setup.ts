import { spawnSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';
import { MissingToolError, provideOrStop, resolveTool, type SystemTool } from './system-tool.js';

/**
 * Global setup of the sandbox project: the script tests run the real bubblewrap (08 §6), so on a
 * fresh machine it is found, installed where the machine allows, or the run stops before any test
 * with the install command, the way the browser tests get Chromium. A bwrap that cannot build a
 * sandbox here (user namespaces switched off) stops the run too, rather than failing every test.
 */

declare module 'vitest' {
  export interface ProvidedContext {
    bwrapPath: string;
  }
}

export const BUBBLEWRAP: SystemTool = {
  purpose: 'Script sandbox tests need bubblewrap',
  label: 'bwrap',
  debianPackage: 'bubblewrap',
  envVar: 'BWRAP_PATH',
  candidates: ['/usr/bin/bwrap'],
};

export function resolveBwrap(
  env: NodeJS.ProcessEnv = process.env,
  candidates = BUBBLEWRAP.candidates,
): string {
  const path = resolveTool(BUBBLEWRAP, env, candidates);
  const probe = spawnSync(path, ['--unshare-all', '--ro-bind', '/', '/', '--', 'true'], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  if (probe.status !== 0)
    throw new MissingToolError(
      BUBBLEWRAP,
      `${path} cannot create a sandbox on this machine (${probe.stderr.trim() || 'no output'}); unprivileged user namespaces may be switched off`,
    );
  return path;
}

export default function setup(project: TestProject): void {
  provideOrStop(() => project.provide('bwrapPath', resolveBwrap()));
}
