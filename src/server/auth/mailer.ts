import nodemailer, { type Transporter } from 'nodemailer';
import type { InstanceConfig } from '../../core/config/index.js';

export interface Mail {
  to: string;
  subject: string;
  text: string;
  html: string;
}

/** SMTP delivery through nodemailer (03, 04 §1.3 magic link); null when `email.smtp.host` is not configured. */
export class Mailer {
  readonly #transport: Transporter;
  readonly #from: string;

  constructor(config: InstanceConfig['email']) {
    const smtp = config.smtp;
    this.#from = config.from;
    this.#transport = nodemailer.createTransport({
      host: smtp.host,
      port: smtp.port,
      secure: smtp.secure,
      requireTLS: !smtp.secure && smtp.require_starttls,
      auth: smtp.user ? { user: smtp.user, pass: smtp.password ?? '' } : undefined,
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 20_000,
    });
  }

  static fromConfig(config: InstanceConfig['email']): Mailer | null {
    return config.smtp.host ? new Mailer(config) : null;
  }

  async send(mail: Mail): Promise<void> {
    await this.#transport.sendMail({
      from: this.#from,
      to: mail.to,
      subject: mail.subject,
      text: mail.text,
      html: mail.html,
    });
  }

  close(): void {
    this.#transport.close();
  }
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

/** A mail with one link, as plain text and escaped HTML. */
export function linkMail(options: {
  to: string;
  subject: string;
  intro: string;
  link: string;
  validity: string;
  instance: string;
}): Mail {
  const ignore = `If you did not ask for this, ignore this message; nothing will change.`;
  const text = `${options.intro}\n\n${options.link}\n\nThe link is valid for ${options.validity} and works once.\n\n${ignore}\n\n— ${options.instance}\n`;
  const html = `<p>${escapeHtml(options.intro)}</p><p><a href="${escapeHtml(options.link)}">${escapeHtml(options.link)}</a></p><p>The link is valid for ${escapeHtml(options.validity)} and works once.</p><p>${escapeHtml(ignore)}</p><p>— ${escapeHtml(options.instance)}</p>`;
  return { to: options.to, subject: options.subject, text, html };
}
