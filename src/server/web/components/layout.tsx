import type { ComponentChildren } from 'preact';
import { hasRole } from '../../../core/access/roles.js';
import type { InstanceConfig } from '../../../core/config/index.js';
import type { Role } from '../../../core/state/schema.js';
import { assetUrl } from '../assets.js';

/** The signed-in user as pages need them (navigation by role, the user menu). */
export interface PageUser {
  id: string;
  email: string;
  name: string;
  role: Role;
}

export interface PageContext {
  config: InstanceConfig;
  /** The per-response CSP nonce for the one theme `<style>` block. */
  styleNonce: string;
  csrfToken: string;
  /** Absent on anonymous pages, which get the narrow layout without navigation. */
  user?: PageUser;
  /** The request path, to mark the current navigation entry. */
  path?: string;
  version?: string;
  /** The signed-in user's unread notifications for the bell; absent where a page does not count them. */
  unreadNotifications?: number;
}

/** Theme values become CSS custom properties; config validation already restricted their syntax. */
function themeCss(theme: InstanceConfig['theme']): string {
  return `:root{--agnes-primary:${theme.primary};--agnes-primary-dark:${theme.primary_dark};--agnes-primary-light:${theme.primary_light};--agnes-text:${theme.text_primary};--agnes-text-muted:${theme.text_secondary};--agnes-bg:${theme.background};--agnes-surface:${theme.surface};--agnes-border:${theme.border};--agnes-font:${theme.font_primary};--agnes-radius:${theme.radius};--agnes-success:${theme.success};--agnes-warning:${theme.warning};--agnes-error:${theme.error}}`;
}

interface NavEntry {
  href: string;
  label: string;
  minimum: Role;
}

const NAV: NavEntry[] = [
  { href: '/dashboard', label: 'Dashboard', minimum: 'viewer' },
  { href: '/catalog', label: 'Catalog', minimum: 'viewer' },
  { href: '/sql', label: 'SQL', minimum: 'analyst' },
  { href: '/corporate-memory', label: 'Memory', minimum: 'viewer' },
  { href: '/alerts', label: 'Alerts', minimum: 'analyst' },
  { href: '/access-requests', label: 'Access', minimum: 'viewer' },
  { href: '/activity-center', label: 'Activity', minimum: 'viewer' },
  { href: '/admin/tables', label: 'Tables', minimum: 'admin' },
  { href: '/admin/users', label: 'Users', minimum: 'admin' },
  { href: '/admin/permissions', label: 'Permissions', minimum: 'admin' },
  { href: '/admin/groups', label: 'Groups', minimum: 'admin' },
  { href: '/corporate-memory/admin', label: 'Memory review', minimum: 'km_admin' },
];

function isCurrent(href: string, path: string | undefined): boolean {
  return path === href || (path?.startsWith(`${href}/`) ?? false);
}

/**
 * The bell with the unread count (09 §1 layout), rendered by the server. `data-unread-count` and
 * the id let a browser module keep it live (WebSocket gateway) without re-rendering the header.
 */
function NotificationBell(props: { unread: number | undefined }) {
  const { unread } = props;
  return (
    <a
      id="notification-bell"
      class="bell"
      href="/activity-center#notifications-h"
      data-unread-count={unread === undefined ? undefined : String(unread)}
      aria-label={unread === undefined ? 'Notifications' : `Notifications: ${unread} unread`}
    >
      <svg viewBox="0 0 24 24" width={18} height={18} aria-hidden="true" focusable="false">
        <path d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1Z" />
      </svg>
      <span class="bell-count" data-unread-badge hidden={!unread}>
        {unread !== undefined && unread > 99 ? '99+' : String(unread ?? 0)}
      </span>
    </a>
  );
}

function Header(props: { ctx: PageContext; user: PageUser }) {
  const { ctx, user } = props;
  // The most specific entry: `/corporate-memory/admin` is Memory review, not also Memory.
  const current = NAV.filter((entry) => isCurrent(entry.href, ctx.path)).sort(
    (a, b) => b.href.length - a.href.length,
  )[0]?.href;
  return (
    <header class="top">
      <div class="bar">
        <a class="brand" href="/dashboard">
          <strong>{ctx.config.instance.name}</strong>
          <span>{ctx.config.instance.subtitle}</span>
        </a>
        <nav class="main" aria-label="Main">
          <ul>
            {NAV.filter((entry) => hasRole(user.role, entry.minimum)).map((entry) => (
              <li key={entry.href}>
                <a href={entry.href} aria-current={entry.href === current ? 'page' : undefined}>
                  {entry.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="user">
          <NotificationBell unread={ctx.unreadNotifications} />
          <a href="/account" aria-current={isCurrent('/account', ctx.path) ? 'page' : undefined}>
            Account
          </a>
          <span class="who">{user.email}</span>
          <form method="post" action="/auth/logout">
            <CsrfField token={ctx.csrfToken} />
            <button type="submit" class="secondary small">
              Sign out
            </button>
          </form>
        </div>
      </div>
    </header>
  );
}

/**
 * Every page: landmarks, a skip link, the theme block and the stylesheet; scripts are same-origin
 * ES modules only (the CSP allows nothing else).
 */
export function Layout(props: {
  ctx: PageContext;
  title: string;
  scripts?: string[];
  children: ComponentChildren;
}) {
  const { ctx } = props;
  const { instance } = ctx.config;
  return (
    <html lang={instance.language}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        {/* No favicon request: the browser would otherwise ask for /favicon.ico on every page. */}
        <link rel="icon" href="data:," />
        <title>{`${props.title} — ${instance.name}`}</title>
        <style nonce={ctx.styleNonce} dangerouslySetInnerHTML={{ __html: themeCss(ctx.config.theme) }} />
        <link rel="stylesheet" href={assetUrl('css/app.css')} />
        {[
          'forms',
          ...(ctx.user && ctx.config.ws_gateway.public_url ? ['notification-bell'] : []),
          ...(props.scripts ?? []),
        ].map((name) => (
          <script key={name} type="module" src={assetUrl(`js/${name}.js`)} />
        ))}
      </head>
      <body>
        <a class="skip" href="#content">
          Skip to content
        </a>
        {ctx.user ? <Header ctx={ctx} user={ctx.user} /> : null}
        <main id="content" class={ctx.user ? undefined : 'narrow'}>
          {props.children}
        </main>
        <footer class="bottom">
          <div class="bar">
            <span>{instance.copyright || instance.name}</span>
            <span>
              {ctx.version ? `Agnes ${ctx.version}` : 'Agnes'}
              {ctx.config.server.docs ? (
                <>
                  {' · '}
                  <a href="/docs">API docs</a>
                </>
              ) : null}
            </span>
          </div>
        </footer>
      </body>
    </html>
  );
}

export function CsrfField(props: { token: string }) {
  return <input type="hidden" name="_csrf" value={props.token} />;
}

/** The live region where form scripts report results and API errors (`role=status`). */
export function FormStatus() {
  return <p class="status" role="status" aria-live="polite" data-status />;
}
