import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeSmtp, startFakeSmtp } from '../../fakes/smtp.js';
import { call, createUser, type TestServer, type TestUser, withServer } from '../../support/server.js';

/**
 * One spelling of an address everywhere (issue 10): surrounding spaces and capitals are removed
 * before validation, on every route that takes an email.
 */
describe('email addresses are trimmed and lower-cased before validation', () => {
  let smtp: FakeSmtp;
  let server: TestServer;
  let admin: TestUser;

  beforeAll(async () => {
    smtp = await startFakeSmtp();
    server = await withServer({
      config: {
        server: { public_url: 'http://agnes.test' },
        email: {
          from: 'Agnes <no-reply@agnes.test>',
          smtp: { host: '127.0.0.1', port: smtp.port, secure: false, require_starttls: false },
        },
      },
    });
    admin = await createUser(server.ctx, 'admin', { email: 'admin@x.com' });
  });
  afterAll(async () => {
    await server.close();
    await smtp.close();
  });

  it('signs in with "  Admin@X.COM " through POST /auth/token', async () => {
    const reply = await call(server, 'POST', '/auth/token', {
      body: { email: '  Admin@X.COM ', password: admin.password },
    });
    expect(reply.status).toBe(200);
    expect(reply.body.access_token).toEqual(expect.any(String));
  });

  it('creates a user under the normal spelling, sends the invite there, and refuses a case twin with 409', async () => {
    const created = await call(server, 'POST', '/api/users', {
      auth: admin.auth,
      body: { email: ' New.Person@Example.COM\t', name: 'New Person', role: 'viewer' },
    });
    expect(created.status).toBe(201);
    expect(created.body.email).toBe('new.person@example.com');
    const invite = await smtp.waitFor((m) => m.to.includes('new.person@example.com'));
    expect(invite.text).toContain('http://agnes.test/auth/password/setup?token=');
    const twin = await call(server, 'POST', '/api/users', {
      auth: admin.auth,
      body: { email: 'NEW.PERSON@example.com', name: 'Twin', role: 'viewer' },
    });
    expect(twin.status).toBe(409);
  });

  it('sends a magic link to the normal spelling of a padded, capitalised address', async () => {
    const before = smtp.messages.length;
    const reply = await call(server, 'POST', '/auth/email/send-link', { body: { email: ' ADMIN@x.com ' } });
    expect(reply.status).toBe(200);
    const mail = await smtp.waitFor(
      (m) => smtp.messages.indexOf(m) >= before && m.to.includes('admin@x.com'),
    );
    expect(mail.text).toContain('/auth/email/verify?token=');
  });

  it('still refuses what is not an address once trimmed', async () => {
    const reply = await call(server, 'POST', '/auth/token', { body: { email: '   ', password: 'x' } });
    expect(reply.status).toBe(422);
  });
});
