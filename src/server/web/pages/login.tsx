import { CsrfField, Layout, type PageContext } from '../components/layout.js';

/** Messages for the `?error=` codes of 09 §2 pages; any other value is ignored, never echoed. */
const ERRORS: Record<string, string> = {
  invalid_credentials: 'The email or password is not correct.',
  google_not_configured: 'Google sign-in is not configured on this server.',
  oauth_failed: 'Google sign-in did not complete. Try again.',
  email_not_verified: 'Your Google email address is not verified.',
  domain_not_allowed: 'Accounts of this email domain may not sign in here.',
  account_disabled: 'This account is disabled. Ask an administrator.',
  no_account: 'There is no account for this address. Ask an administrator for an invite.',
  invalid_link: 'The sign-in link is invalid, expired or already used. Request a new one.',
  email_not_configured: 'Email sign-in is not available on this server.',
};

const NOTICES: Record<string, string> = {
  sent: 'If an account exists for that address, a sign-in link is on its way. Check your inbox.',
  reset_requested: 'If an account exists for that address, a password reset link is on its way.',
  reset: 'Your password was changed. Sign in with the new password.',
};

export interface LoginOptions {
  next: string | null;
  error: string | undefined;
  notice: keyof typeof NOTICES | null;
  magicLinks: boolean;
  google: boolean;
}

export function LoginPage(props: { ctx: PageContext; options: LoginOptions }) {
  const { ctx, options } = props;
  const error = options.error !== undefined ? ERRORS[options.error] : undefined;
  const next = options.next ? <input type="hidden" name="next" value={options.next} /> : null;
  return (
    <Layout ctx={ctx} title="Sign in">
      <h1>Sign in to {ctx.config.instance.name}</h1>
      {error ? (
        <p class="notice error" role="alert">
          {error}
        </p>
      ) : null}
      {options.notice ? (
        <p class="notice" role="status">
          {NOTICES[options.notice]}
        </p>
      ) : null}
      <form method="post" action="/auth/password/login">
        <CsrfField token={ctx.csrfToken} />
        {next}
        <label for="login-email">Email</label>
        <input id="login-email" name="email" type="email" autocomplete="username" required maxLength={254} />
        <label for="login-password">Password</label>
        <input
          id="login-password"
          name="password"
          type="password"
          autocomplete="current-password"
          required
          maxLength={256}
        />
        <button type="submit">Sign in</button>
      </form>
      <p>
        <a href="/login/forgot">Forgot password?</a>
      </p>
      {options.magicLinks ? (
        <form method="post" action="/auth/email/send-link">
          <h2>Email me a sign-in link</h2>
          <CsrfField token={ctx.csrfToken} />
          {next}
          <label for="link-email">Email</label>
          <input id="link-email" name="email" type="email" autocomplete="email" required maxLength={254} />
          <button type="submit" class="secondary">
            Email me a link
          </button>
        </form>
      ) : null}
      {options.google ? (
        <p>
          <a
            class="button secondary"
            href={`/auth/google/login${options.next ? `?next=${encodeURIComponent(options.next)}` : ''}`}
          >
            Sign in with Google
          </a>
        </p>
      ) : null}
    </Layout>
  );
}

export function ForgotPasswordPage(props: { ctx: PageContext }) {
  return (
    <Layout ctx={props.ctx} title="Forgot password">
      <h1>Reset your password</h1>
      <p class="muted">We will email a link to choose a new password if an account exists.</p>
      <form method="post" action="/auth/password/reset-request">
        <CsrfField token={props.ctx.csrfToken} />
        <label for="forgot-email">Email</label>
        <input id="forgot-email" name="email" type="email" autocomplete="email" required maxLength={254} />
        <button type="submit">Send reset link</button>
      </form>
      <p>
        <a href="/login">Back to sign in</a>
      </p>
    </Layout>
  );
}
