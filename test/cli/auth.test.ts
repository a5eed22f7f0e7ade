import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CliHome,
  type CliServer,
  cliHome,
  loginWithToken,
  runDa,
  withCliServer,
} from '../support/cli.js';

describe('da auth', () => {
  let fixture: CliServer;
  let home: CliHome;

  beforeAll(async () => {
    fixture = await withCliServer();
  });
  afterAll(async () => fixture.close());

  it('logs in by password, stores a new PAT 0600 per server, and whoami uses it', async () => {
    home = await cliHome();
    const { url } = fixture.server;
    const login = await runDa(
      ['auth', 'login', '--server', url, '--email', fixture.analyst.email, '--password-stdin'],
      { env: home.env, input: `${fixture.analyst.password}\n` },
    );
    expect(login.stderr).toBe('');
    expect(login.code).toBe(0);
    expect(login.stdout).toMatch(
      new RegExp(`^Logged in to ${url} as ${fixture.analyst.email} \\(role analyst\\)`),
    );
    const credentials = join(home.configDir, 'credentials.json');
    expect((await stat(credentials)).mode & 0o777).toBe(0o600);
    expect((await stat(home.configDir)).mode & 0o777).toBe(0o700);

    const whoami = await runDa(['auth', 'whoami', '--json'], { env: home.env });
    expect(whoami.code).toBe(0);
    const me = JSON.parse(whoami.stdout);
    expect(me).toMatchObject({ server: url, email: fixture.analyst.email, role: 'analyst' });
    expect(me.token_name).toMatch(/^da on /);
    await home.cleanup();
  });

  it('logs in with an existing token, and refuses a password prompt without a terminal', async () => {
    home = await cliHome();
    const { url } = fixture.server;
    const login = await loginWithToken(home, url, fixture.admin);
    expect(login.stdout).toContain(`as ${fixture.admin.email} (role admin)`);
    expect(login.stdout).not.toContain(fixture.admin.pat);

    const prompt = await runDa(['auth', 'login', '--server', url, '--email', fixture.admin.email], {
      env: home.env,
    });
    expect(prompt.code).toBe(2);
    expect(prompt.stderr.trim().split('\n')).toEqual([
      'error: no terminal to ask for it; pass --password-stdin',
    ]);
    await home.cleanup();
  });
});
