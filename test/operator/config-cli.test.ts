import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../support/extracts.js';
import { type RunResult, runAgnes } from '../support/processes.js';

/**
 * Process-level configuration checks (11-configuration.md §3–§5, 01 §6): the compiled `agnes`
 * refuses to start on invalid configuration or a missing JWT secret, and `agnes config check
 * --print` never prints a secret.
 */

let dir: string;
let cleanup: () => Promise<void>;

beforeEach(async () => {
  ({ path: dir, cleanup } = await tempDir('agnes-config-cli-'));
});

afterEach(async () => {
  await cleanup();
});

/** Runs `agnes` with only the given environment (plus PATH), in the test directory. */
function agnes(args: string[], env: Record<string, string>): Promise<RunResult> {
  return runAgnes(args, {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', DATA_DIR: join(dir, 'data'), ...env },
    killAfterMs: 20_000,
  });
}

async function writeConfig(yaml: string): Promise<string> {
  const path = join(dir, 'instance.yaml');
  await writeFile(path, yaml);
  return path;
}

const VALID_JWT = 'config-cli-test-secret-0123456789abcdef';

describe('agnes serve', () => {
  it('exits 1 before listening on an invalid instance.yaml, naming each key path and reason', async () => {
    const config = await writeConfig(
      'server:\n  port: "eighty"\ntheme:\n  primary: blue\ninstance_name: Acme\n',
    );
    const run = await agnes(['serve'], { AGNES_CONFIG: config, JWT_SECRET_KEY: VALID_JWT });
    expect(run.code).toBe(1);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toEqual(
      expect.arrayContaining([
        'config: server.port: must be an integer between 0 and 65535',
        'config: theme.primary: must be a hex colour such as #2563eb',
        'config: unknown key "instance_name" (did you mean "instance.name"?)',
      ]),
    );
    expect(run.stdout).not.toMatch(/listening/i);
    // Refused before anything was opened.
    expect(existsSync(join(dir, 'data', 'state'))).toBe(false);
  });

  it('exits 1 on a YAML syntax error with its line and column', async () => {
    const config = await writeConfig('server:\n  port: 8000\n  port: 8001\n');
    const run = await agnes(['serve'], { AGNES_CONFIG: config, JWT_SECRET_KEY: VALID_JWT });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('instance.yaml: line 3, column 3: Map keys must be unique');
  });

  it('exits 1 when AGNES_CONFIG names a missing file', async () => {
    const missing = join(dir, 'missing.yaml');
    const run = await agnes(['serve'], { AGNES_CONFIG: missing, JWT_SECRET_KEY: VALID_JWT });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`config: file ${missing} does not exist (set by AGNES_CONFIG)`);
  });

  it('exits 1 naming JWT_SECRET_KEY when it is missing or short', async () => {
    const config = await writeConfig('server:\n  host: 127.0.0.1\n  port: 0\n');
    const missing = await agnes(['serve'], { AGNES_CONFIG: config });
    const short = await agnes(['serve'], { AGNES_CONFIG: config, JWT_SECRET_KEY: 'short-secret' });
    for (const run of [missing, short]) {
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('JWT_SECRET_KEY: must be set and at least 32 characters long');
    }
    expect(short.stderr).not.toContain('short-secret');
    expect(existsSync(join(dir, 'data', 'state'))).toBe(false);
  });
});

describe('agnes config check', () => {
  it('prints the resolved configuration with every secret masked', async () => {
    const password = 'smtp-pw-Zx81-DISTINCTIVE';
    const dispatch = 'dispatch-token-0123456789abcdef-DISTINCTIVE';
    const bot = 'telegram-bot-token-DISTINCTIVE';
    const config = await writeConfig(
      [
        'email:',
        '  smtp:',
        '    host: smtp.example.com',
        '    user: mailer',
        '    password: "${SMTP_PASSWORD}"',
        'telegram:',
        '  bot_username: agnes_bot',
        '  bot_token: "${TELEGRAM_BOT_TOKEN}"',
        '',
      ].join('\n'),
    );
    const run = await agnes(['config', 'check', '--print'], {
      AGNES_CONFIG: config,
      SMTP_PASSWORD: password,
      TELEGRAM_BOT_TOKEN: bot,
      AGNES_DISPATCH_TOKEN: dispatch,
    });
    expect(run.code).toBe(0);
    for (const secret of [password, dispatch, bot]) {
      expect(run.stdout).not.toContain(secret);
      expect(run.stderr).not.toContain(secret);
    }
    expect(run.stdout).not.toContain('DISTINCTIVE');
    const printed = JSON.parse(run.stdout) as {
      email: { smtp: Record<string, unknown> };
      telegram: Record<string, unknown>;
      notifications: Record<string, unknown>;
      auth: { password: Record<string, unknown> };
      server: Record<string, unknown>;
    };
    expect(printed.email.smtp).toMatchObject({
      host: 'smtp.example.com',
      user: 'mailer',
      password: '********',
    });
    expect(printed.telegram).toMatchObject({ bot_username: 'agnes_bot', bot_token: '********' });
    expect(printed.notifications.dispatch_token).toBe('********');
    // Non-string settings under secret-looking keys are not secrets.
    expect(printed.auth.password).toEqual({ enabled: true, min_length: 10 });
    expect(printed.server).toMatchObject({ port: 8000, public_url: 'http://localhost:8000' });
  });

  it('reports a valid configuration without --print, and refuses an invalid one', async () => {
    const valid = await writeConfig('instance:\n  name: Acme\n');
    const ok = await agnes(['config', 'check'], { AGNES_CONFIG: valid });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe(`configuration is valid (${valid})\n`);

    const invalid = await writeConfig('auth:\n  google:\n    default_role: admin\n');
    const refused = await agnes(['config', 'check'], { AGNES_CONFIG: invalid });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('config: auth.google.default_role: must be one of viewer, analyst');
  });
});
