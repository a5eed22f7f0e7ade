#!/usr/bin/env node
import { CommanderError } from 'commander';
import { EXIT } from '../cli/errors.js';
import { daProgram } from '../cli/program.js';

try {
  await daProgram().parseAsync(process.argv);
} catch (error) {
  // Usage errors (unknown flag, missing argument) exit 2; help and version exit 0.
  if (error instanceof CommanderError) process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  else throw error;
}
