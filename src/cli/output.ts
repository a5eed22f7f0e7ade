import pc from 'picocolors';
import { CliError, EXIT, type ExitCode } from './errors.js';

export interface OutputOptions {
  json: boolean;
  quiet: boolean;
  color: boolean;
}

/** Where `da` speaks: one JSON document on stdout with --json, else text; diagnostics on stderr. */
export class Output {
  readonly colors: ReturnType<typeof pc.createColors>;

  constructor(readonly options: OutputOptions) {
    this.colors = pc.createColors(options.color);
  }

  get json(): boolean {
    return this.options.json;
  }

  /** The command's result: the JSON document, or the text when not in JSON mode. */
  result(document: unknown, text: () => string): void {
    if (this.options.json) process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
    else {
      const body = text();
      if (body) process.stdout.write(body.endsWith('\n') ? body : `${body}\n`);
    }
  }

  /** A line for humans on stderr; silent in JSON and quiet modes. */
  info(line: string): void {
    if (!this.options.json && !this.options.quiet) process.stderr.write(`${line}\n`);
  }

  warn(line: string): void {
    if (!this.options.json) process.stderr.write(`${this.colors.yellow('warning:')} ${line}\n`);
  }

  /** Prints an error as one line (or the JSON error document) and returns its exit code. */
  error(error: unknown): ExitCode {
    const cliError =
      error instanceof CliError
        ? error
        : new CliError(EXIT.failed, error instanceof Error ? error.message : String(error), 'error');
    if (this.options.json) {
      const document = { error: { code: cliError.code, message: cliError.message, status: cliError.status } };
      process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
    } else {
      process.stderr.write(`${this.colors.red('error:')} ${cliError.message}\n`);
    }
    return cliError.exitCode;
  }
}

/** Colour only on a TTY, and never with --no-color or NO_COLOR. */
export function wantsColor(flag: boolean | undefined, env: NodeJS.ProcessEnv = process.env): boolean {
  return flag !== false && !env.NO_COLOR && Boolean(process.stderr.isTTY);
}
