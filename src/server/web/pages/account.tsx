import type { TelegramStatus } from '../../../contract/index.js';
import type { PersonalAccessToken } from '../../../core/state/repositories/index.js';
import { ActionButton, ApiForm, Badge, DataTable, fmtDate } from '../components/bits.js';
import { CsrfField, Layout, type PageContext } from '../components/layout.js';

export function AccountPage(props: {
  ctx: PageContext;
  tokens: PersonalAccessToken[];
  hasPassword: boolean;
  maxExpiryDays: number;
  telegram: TelegramStatus;
}) {
  const { ctx, tokens } = props;
  const now = new Date().toISOString();
  return (
    <Layout ctx={ctx} title="Account">
      <h1>Account</h1>
      <div class="grid">
        <section class="card" aria-labelledby="profile-h">
          <h2 id="profile-h">Profile</h2>
          <ApiForm csrf={ctx.csrfToken} api="/api/users/me" method="PATCH" label="Profile">
            <label for="me-name">Name</label>
            <input id="me-name" name="name" type="text" value={ctx.user?.name} required maxLength={200} />
            <button type="submit">Save</button>
          </ApiForm>
        </section>
        <section class="card" aria-labelledby="pw-h">
          <h2 id="pw-h">Password</h2>
          {props.hasPassword ? (
            <ApiForm csrf={ctx.csrfToken} api="/auth/password/change" label="Change password">
              <label for="pw-current">Current password</label>
              <input
                id="pw-current"
                name="current_password"
                type="password"
                autocomplete="current-password"
                required
              />
              <label for="pw-new">New password</label>
              <input id="pw-new" name="new_password" type="password" autocomplete="new-password" required />
              <button type="submit">Change password</button>
            </ApiForm>
          ) : (
            <p class="muted">
              You have no password. Use <a href="/login/forgot">Forgot password</a> to set one.
            </p>
          )}
          <form method="post" action="/auth/logout">
            <CsrfField token={ctx.csrfToken} />
            <input type="hidden" name="all" value="true" />
            <button type="submit" class="danger">
              Sign out everywhere
            </button>
          </form>
        </section>
      </div>
      <TelegramCard csrf={ctx.csrfToken} status={props.telegram} />
      <section class="card" aria-labelledby="tokens-h">
        <h2 id="tokens-h">Personal access tokens</h2>
        <p class="muted">Tokens let the `da` CLI and scripts act as you. A new token is shown only once.</p>
        <ApiForm csrf={ctx.csrfToken} api="/api/tokens" show="token" label="Create token">
          <div class="row">
            <div>
              <label for="token-name">Token name</label>
              <input id="token-name" name="name" type="text" required maxLength={100} />
            </div>
            <div>
              <label for="token-days">Expires in days</label>
              <input
                id="token-days"
                name="expires_in_days"
                type="number"
                data-type="int"
                min={1}
                max={props.maxExpiryDays}
                value={Math.min(90, props.maxExpiryDays)}
              />
            </div>
            <div class="shrink">
              <button type="submit">Create token</button>
            </div>
          </div>
          <div data-result hidden>
            <p>Copy your new token now; it will not be shown again:</p>
            <div class="row">
              <pre class="secret" id="new-token" data-result-value />
              <button
                type="button"
                class="secondary small shrink"
                data-copy="new-token"
                aria-label="Copy token"
              >
                Copy
              </button>
            </div>
            <a href="/account">Done</a>
          </div>
        </ApiForm>
        <DataTable
          headings={[
            'Name',
            'Prefix',
            'Created',
            'Expires',
            'Last used',
            'Status',
            { label: 'Actions', quiet: true },
          ]}
        >
          {tokens.map((t) => {
            const active = !t.revoked_at && (!t.expires_at || t.expires_at > now);
            return (
              <tr key={t.id}>
                <td>{t.name}</td>
                <td>
                  <code>{t.prefix}…</code>
                </td>
                <td>{fmtDate(t.created_at)}</td>
                <td>{fmtDate(t.expires_at)}</td>
                <td>{fmtDate(t.last_used_at)}</td>
                <td>
                  {t.revoked_at ? (
                    <Badge tone="err">revoked</Badge>
                  ) : active ? (
                    <Badge tone="ok">active</Badge>
                  ) : (
                    <Badge>expired</Badge>
                  )}
                </td>
                <td>
                  {active ? (
                    <ActionButton
                      csrf={ctx.csrfToken}
                      api={`/api/tokens/${t.id}`}
                      method="DELETE"
                      confirm="Revoke this token? Programs using it stop working."
                      danger
                      label={`Revoke token ${t.name}`}
                      text="Revoke"
                    />
                  ) : null}
                </td>
              </tr>
            );
          })}
        </DataTable>
      </section>
    </Layout>
  );
}

/** Telegram (09 `/account`): the link's status, the bot to talk to, code entry and unlink. */
function TelegramCard(props: { csrf: string; status: TelegramStatus }) {
  const { status } = props;
  const bot = status.bot_username ? (
    <a
      href={`https://t.me/${encodeURIComponent(status.bot_username)}`}
      rel="noopener noreferrer"
      target="_blank"
    >
      @{status.bot_username}
    </a>
  ) : (
    'the Telegram bot of this instance'
  );
  return (
    <section class="card" aria-labelledby="telegram-h">
      <h2 id="telegram-h">Telegram</h2>
      {status.linked ? (
        <>
          <p>
            <Badge tone="ok">linked</Badge> Notifications also reach your Telegram chat (linked{' '}
            {fmtDate(status.linked_at)}). Talk to {bot} for /status and /whoami.
          </p>
          <ActionButton
            csrf={props.csrf}
            api="/api/telegram/unlink"
            confirm="Unlink Telegram? Notifications stop reaching your chat."
            danger
            label="Unlink Telegram"
            text="Unlink"
          />
        </>
      ) : (
        <>
          <p>
            <Badge>not linked</Badge> Send /start to {bot}, then enter the code it gives you here.
          </p>
          <ApiForm csrf={props.csrf} api="/api/telegram/verify" label="Link Telegram">
            <div class="row">
              <div>
                <label for="telegram-code">Link code</label>
                <input
                  id="telegram-code"
                  name="code"
                  type="text"
                  required
                  maxLength={16}
                  autocomplete="one-time-code"
                  spellcheck={false}
                />
              </div>
              <div class="shrink">
                <button type="submit">Link</button>
              </div>
            </div>
          </ApiForm>
        </>
      )}
    </section>
  );
}
