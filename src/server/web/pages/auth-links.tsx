import { CsrfField, Layout, type PageContext } from '../components/layout.js';

/**
 * The landing pages of emailed links (04 §1.3, §1.7). They reveal nothing about the account and
 * consume nothing: only the button's POST uses the token, so mail scanners that prefetch links
 * cannot burn it.
 */
export function MagicLinkLanding(props: { ctx: PageContext; token: string; next: string | null }) {
  return (
    <Layout ctx={props.ctx} title="Sign in">
      <h1>Sign in to {props.ctx.config.instance.name}</h1>
      <p class="muted">Press the button to finish signing in with your link.</p>
      <form method="post" action="/auth/email/verify">
        <CsrfField token={props.ctx.csrfToken} />
        <input type="hidden" name="token" value={props.token} />
        {props.next ? <input type="hidden" name="next" value={props.next} /> : null}
        <button type="submit">Sign in</button>
      </form>
    </Layout>
  );
}

export function PasswordLinkPage(props: {
  ctx: PageContext;
  token: string;
  kind: 'setup' | 'reset';
  minLength: number;
}) {
  const title = props.kind === 'setup' ? 'Choose your password' : 'Choose a new password';
  return (
    <Layout ctx={props.ctx} title={title}>
      <h1>{title}</h1>
      <p class="muted">
        At least {props.minLength} characters; not a common password and not your email address.
      </p>
      <form method="post" action={`/auth/password/${props.kind}`}>
        <CsrfField token={props.ctx.csrfToken} />
        <input type="hidden" name="token" value={props.token} />
        <label for="password">New password</label>
        <input
          id="password"
          name="password"
          type="password"
          autocomplete="new-password"
          required
          minLength={props.minLength}
          maxLength={256}
        />
        <button type="submit">Save password</button>
      </form>
    </Layout>
  );
}
