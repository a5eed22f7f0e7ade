import type { ComponentChildren } from 'preact';
import type { InstanceConfig } from '../../../core/config/index.js';

export interface PageContext {
  config: InstanceConfig;
  /** The per-response CSP nonce for the one theme `<style>` block. */
  styleNonce: string;
  csrfToken: string;
}

/** Theme values become CSS custom properties; config validation already restricted their syntax. */
function themeCss(theme: InstanceConfig['theme']): string {
  return `:root{--agnes-primary:${theme.primary};--agnes-primary-dark:${theme.primary_dark};--agnes-primary-light:${theme.primary_light};--agnes-text:${theme.text_primary};--agnes-text-muted:${theme.text_secondary};--agnes-bg:${theme.background};--agnes-surface:${theme.surface};--agnes-border:${theme.border};--agnes-font:${theme.font_primary};--agnes-radius:${theme.radius};--agnes-success:${theme.success};--agnes-warning:${theme.warning};--agnes-error:${theme.error}}
body{margin:0;font-family:var(--agnes-font);background:var(--agnes-bg);color:var(--agnes-text)}
main{max-width:28rem;margin:4rem auto;padding:2rem;background:var(--agnes-surface);border:1px solid var(--agnes-border);border-radius:var(--agnes-radius)}
h1{font-size:1.4rem;margin-top:0}label{display:block;margin:1rem 0 .25rem}input{width:100%;box-sizing:border-box;padding:.5rem;border:1px solid var(--agnes-border);border-radius:var(--agnes-radius);font:inherit}
button{margin-top:1.25rem;padding:.6rem 1.2rem;border:0;border-radius:var(--agnes-radius);background:var(--agnes-primary);color:#fff;font:inherit;cursor:pointer}
button:hover,button:focus{background:var(--agnes-primary-dark)}p.muted{color:var(--agnes-text-muted)}`;
}

export function Layout(props: { ctx: PageContext; title: string; children: ComponentChildren }) {
  const { config } = props.ctx;
  return (
    <html lang={config.instance.language}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · ${config.instance.name}`}</title>
        <style nonce={props.ctx.styleNonce} dangerouslySetInnerHTML={{ __html: themeCss(config.theme) }} />
      </head>
      <body>
        <main>{props.children}</main>
      </body>
    </html>
  );
}

export function CsrfField(props: { token: string }) {
  return <input type="hidden" name="_csrf" value={props.token} />;
}
