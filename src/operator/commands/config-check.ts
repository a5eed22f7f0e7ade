import { loadInstance } from '../instance.js';
import { printJson } from '../output.js';

const SECRET_KEY = /token|secret|password|key/i;

function masked(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => masked(v, key));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, masked(v, k)]));
  }
  if (typeof value === 'string' && SECRET_KEY.test(key) && value !== '' && !key.endsWith('_env'))
    return '********';
  return value;
}

/** `agnes config check [--print]`: the same validation as startup; secrets masked when printed. */
export function configCheck(options: { print: boolean }): number {
  const instance = loadInstance({ logToStderr: true });
  for (const warning of instance.loaded.warnings) process.stderr.write(`warning: ${warning}\n`);
  if (options.print) printJson(masked(instance.loaded.config));
  else
    process.stdout.write(
      `configuration is valid (${instance.loaded.configPath ?? 'defaults, no instance.yaml'})\n`,
    );
  return 0;
}
