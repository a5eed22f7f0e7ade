import { createInterface } from 'node:readline/promises';
import { Writable } from 'node:stream';
import { CliError, EXIT } from './errors.js';

/** Reads all of stdin (for `--password-stdin`, `--token -`), without the trailing newline. */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** Asks on the terminal; `secret` hides what is typed. Refuses without a TTY (06: no prompts then). */
export async function ask(question: string, options: { secret?: boolean; flag: string }): Promise<string> {
  if (!process.stdin.isTTY) {
    throw new CliError(EXIT.usage, `no terminal to ask for it; pass ${options.flag}`, 'usage');
  }
  let muted = false;
  const output = new Writable({
    write(chunk, _encoding, callback) {
      if (!muted) process.stderr.write(chunk);
      callback();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  try {
    const pending = rl.question(question);
    muted = Boolean(options.secret);
    const answer = await pending;
    if (options.secret) process.stderr.write('\n');
    return answer.trim();
  } finally {
    rl.close();
  }
}
