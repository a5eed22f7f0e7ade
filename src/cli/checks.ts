import type { CliContext } from './context.js';
import { EXIT } from './errors.js';

/** One line of `da diagnose` or `da setup verify`: what was checked, how it went, what to do. */
export interface Check {
  name: string;
  status: 'pass' | 'warn' | 'fail';
  detail: string;
  action: string | null;
}

export const pass = (name: string, detail: string): Check => ({ name, status: 'pass', detail, action: null });
export const warn = (name: string, detail: string, action: string | null = null): Check => ({
  name,
  status: 'warn',
  detail,
  action,
});
export const fail = (name: string, detail: string, action: string | null = null): Check => ({
  name,
  status: 'fail',
  detail,
  action,
});

/** Prints the checks and returns exit 1 when any failed, in text and JSON mode alike (06 §3). */
export function reportChecks(ctx: CliContext, checks: Check[]): number {
  const failed = checks.some((c) => c.status === 'fail');
  const { colors } = ctx.out;
  const label = { pass: colors.green('PASS'), warn: colors.yellow('WARN'), fail: colors.red('FAIL') };
  const width = Math.max(...checks.map((c) => c.name.length));
  ctx.out.result({ ok: !failed, checks }, () =>
    checks
      .map(
        (c) =>
          `${label[c.status]}  ${c.name.padEnd(width)}  ${c.detail}${c.action ? `\n      ${' '.repeat(width)}→ ${c.action}` : ''}`,
      )
      .join('\n'),
  );
  return failed ? EXIT.failed : EXIT.ok;
}
