import type { TestProject } from 'vitest/node';
import { provideOrStop, resolveTool, type SystemTool } from './system-tool.js';

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

export const CHROMIUM: SystemTool = {
  purpose: 'Browser tests need Chromium',
  label: 'Chromium',
  debianPackage: 'chromium',
  envVar: 'CHROMIUM_PATH',
  candidates: ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/snap/bin/chromium'],
};

/** The Chromium to launch: `CHROMIUM_PATH`, a Debian or snap location, or one installed now. */
export function resolveChromium(
  env: NodeJS.ProcessEnv = process.env,
  candidates = CHROMIUM.candidates,
): string {
  return resolveTool(CHROMIUM, env, candidates);
}

export default function setup(project: TestProject): void {
  provideOrStop(() => project.provide('chromiumPath', resolveChromium()));
}
