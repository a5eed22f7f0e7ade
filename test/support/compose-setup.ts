import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { MissingToolError, provideOrStop, resolveTool, type SystemTool } from './system-tool.js';

/**
 * Global setup of the deploy project: the compose file is checked by Compose itself and against the
 * Compose Specification schema (13 §1), even where no Docker runs. Debian's `docker-compose` brings
 * both: a Compose implementation whose `config` needs no Docker daemon, and the schema it validates
 * with. It is found, installed where the machine allows, or the run stops first with the install
 * command, the way the browser tests get Chromium.
 */

declare module 'vitest' {
  export interface ProvidedContext {
    dockerComposePath: string;
    composeSchemaPath: string;
  }
}

export const DOCKER_COMPOSE: SystemTool = {
  purpose: 'Compose file tests need Docker Compose (its `config` and the Compose schema)',
  label: 'docker-compose',
  debianPackage: 'docker-compose',
  envVar: 'DOCKER_COMPOSE_PATH',
  candidates: ['/usr/bin/docker-compose'],
};

/** The Compose Specification schema the tool validates with, inside its own Python package. */
export function composeSchemaOf(dockerCompose: string): string {
  const interpreter = /^#!\s*(\S+)/.exec(readFileSync(dockerCompose, 'utf8').split('\n', 1)[0] ?? '')?.[1];
  const located = interpreter
    ? spawnSync(interpreter, ['-c', 'import os, compose.config as c; print(os.path.dirname(c.__file__))'], {
        encoding: 'utf8',
        timeout: 30_000,
      })
    : null;
  const schema = located?.status === 0 ? join(located.stdout.trim(), 'compose_spec.json') : null;
  if (!schema || !existsSync(schema))
    throw new MissingToolError(
      DOCKER_COMPOSE,
      `${dockerCompose} is not a docker-compose whose Python package holds compose_spec.json`,
    );
  return schema;
}

export default function setup(project: TestProject): void {
  provideOrStop(() => {
    const dockerCompose = resolveTool(DOCKER_COMPOSE);
    project.provide('dockerComposePath', dockerCompose);
    project.provide('composeSchemaPath', composeSchemaOf(dockerCompose));
  });
}
