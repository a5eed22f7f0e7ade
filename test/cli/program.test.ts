import { describe, expect, it } from 'vitest';
import { PACKAGE_VERSION } from '../../src/core/package-info.js';
import { runDa } from '../support/cli.js';

describe('da program', { timeout: 60_000 }, () => {
  it('prints help without arguments and exits 2 (a command is missing)', async () => {
    const result = await runDa([]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^Usage: da \[options\] \[command\]/);
    for (const command of [
      'auth',
      'sync',
      'query',
      'explore',
      'status',
      'diagnose',
      'admin',
      'setup',
      'skills',
      'mcp',
      'memory',
      'version',
    ])
      expect(result.stderr).toMatch(new RegExp(`^  ${command} `, 'm'));
  });

  it('documents every flag with --help (exit 0) and refuses unknown commands and flags with exit 2', async () => {
    const help = await runDa(['query', '--help']);
    expect(help.code).toBe(0);
    for (const flag of [
      '--remote',
      '--format <format>',
      '--limit <n>',
      '--output <file>',
      '--file <path>',
      '--json',
    ])
      expect(help.stdout).toContain(flag);
    const unknown = await runDa(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^error: unknown command 'frobnicate'/);
    const flag = await runDa(['status', '--bogus']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/^error: unknown option '--bogus'/);
  });

  it('accepts global flags before or after the command', async () => {
    for (const args of [
      ['--json', 'version'],
      ['version', '--json'],
    ]) {
      const result = await runDa(args, { env: { XDG_CONFIG_HOME: '/nonexistent-da-test' } });
      expect(result.code, args.join(' ')).toBe(0);
      expect(JSON.parse(result.stdout)).toEqual({ version: PACKAGE_VERSION, server: null });
    }
  });
});
