import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { FakeJira, issueEvent, sendWebhook } from '../test/fakes/jira.js';

/**
 * The load side of `jira-ingest`, in a child process so that the fake Jira Cloud and the webhook
 * sender do not share the event loop of the app being measured. It serves `issues` fake issues
 * (`<prefix>-1` …) and, on a command line from stdin, posts one signed `jira:issue_created` event
 * per issue: as fast as `concurrency` senders go, or at a fixed `rate`. It answers each command
 * with one JSON line: per event, the time (ms since the epoch) its 2xx arrived.
 */

export interface LoadSetup {
  /** Issue prefix → how many issues. */
  issues: Record<string, number>;
  /** Months the issues' `created` dates are spread over, ending this month. */
  months: number;
}

export type LoadCommand =
  | { kind: 'burst'; url: string; secret: string; prefix: string; count: number; concurrency: number }
  | { kind: 'paced'; url: string; secret: string; prefix: string; count: number; rate: number };

export interface LoadAnswer {
  acceptedAt: number[];
  /** Per event, milliseconds from sending to its 2xx. */
  durations: number[];
  failures: number;
}

/** `created` of the `index`-th issue: spread over the last `months` months, as recent issues are. */
export function createdFor(index: number, months: number): string {
  const now = new Date();
  const month = new Date(
    Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - (index % months), 1 + (index % 27), 9),
  );
  return month.toISOString();
}

async function serve(setup: LoadSetup): Promise<void> {
  const fake = await FakeJira.start();
  let n = 0;
  for (const [prefix, count] of Object.entries(setup.issues))
    for (let i = 1; i <= count; i++)
      fake.addIssue({
        key: `${prefix}-${i}`,
        created: createdFor(n++, setup.months),
        changes: 3,
        comments: 2,
      });
  // The log would hold every request of the run: not needed here.
  fake.requests.length = 0;
  const trim = setInterval(() => {
    fake.requests.length = 0;
  }, 1000);
  process.stdout.write(`${JSON.stringify({ url: fake.url, account: fake.account })}\n`);
  for await (const line of createInterface({ input: process.stdin })) {
    const command = JSON.parse(line) as LoadCommand;
    const acceptedAt: number[] = new Array(command.count).fill(0);
    const durations: number[] = new Array(command.count).fill(0);
    let failures = 0;
    const post = async (i: number) => {
      const issue = fake.issues.get(`${command.prefix}-${i + 1}`)!;
      const started = performance.now();
      const answer = await sendWebhook(command.url, issueEvent('jira:issue_created', issue), {
        secret: command.secret,
      });
      durations[i] = performance.now() - started;
      if (answer.status === 200) acceptedAt[i] = Date.now();
      else failures += 1;
    };
    if (command.kind === 'burst') {
      let next = 0;
      await Promise.all(
        Array.from({ length: command.concurrency }, async () => {
          while (next < command.count) await post(next++);
        }),
      );
    } else {
      const started = Date.now();
      const sends: Promise<void>[] = [];
      for (let i = 0; i < command.count; i++) {
        const due = started + (i * 1000) / command.rate;
        const wait = due - Date.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        sends.push(post(i));
      }
      await Promise.all(sends);
    }
    process.stdout.write(`${JSON.stringify({ acceptedAt, durations, failures } satisfies LoadAnswer)}\n`);
  }
  clearInterval(trim);
  await fake.close();
}

const SELF = fileURLToPath(import.meta.url);
const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The running load process: the fake's URL and account, and a way to send commands. */
export interface LoadProcess {
  url: string;
  account: { email: string; token: string };
  run(command: LoadCommand): Promise<LoadAnswer>;
  close(): Promise<void>;
}

export async function startLoad(setup: LoadSetup): Promise<LoadProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', SELF, JSON.stringify(setup)], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async <T>(): Promise<T> => {
    const line = await lines.next();
    if (line.done) throw new Error('the load process ended');
    return JSON.parse(line.value) as T;
  };
  const ready = await next<{ url: string; account: { email: string; token: string } }>();
  return {
    ...ready,
    async run(command) {
      child.stdin!.write(`${JSON.stringify(command)}\n`);
      return next<LoadAnswer>();
    },
    async close() {
      child.stdin!.end();
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

if (process.argv[1] === SELF) await serve(JSON.parse(process.argv[2] ?? '{}') as LoadSetup);
