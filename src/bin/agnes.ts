#!/usr/bin/env node
import { agnesProgram } from '../operator/program.js';

await agnesProgram().parseAsync(process.argv);
