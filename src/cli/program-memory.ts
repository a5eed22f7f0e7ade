import { Argument, type Command, Option } from 'commander';
import { integer, run, withGlobals } from './command-kit.js';
import * as memory from './commands/memory.js';

/** `da memory`: read, search, propose and vote on corporate memory (03 §13). */
export function registerMemory(program: Command): void {
  const group = program.command('memory').description('the corporate memory: shared knowledge items');
  withGlobals(
    group
      .command('list')
      .description('items you can see, newest first')
      .option('--status <list>', 'comma list: pending, approved, mandatory, rejected, revoked, expired')
      .option('--category <name>', 'one category')
      .option('--mine', 'only items you created or contributed to')
      .addOption(
        new Option('--sort <field>', 'sort field').choices(['updated_at', 'created_at', 'score', 'title']),
      )
      .option('--page <n>', 'page number (from 1)', integer)
      .option('--per-page <n>', 'items per page (1–200, default 50)', integer),
  ).action(run((ctx, options: memory.MemoryListOptions) => memory.list(ctx, options)));
  withGlobals(
    group
      .command('search')
      .description('items whose title or content contains the text, best scored first')
      .argument('<text>', 'text to look for')
      .option('--limit <n>', 'at most this many items (1–200, default 20)', integer),
  ).action(run((ctx, options: { limit?: number }, text: string) => memory.search(ctx, options, text)));
  withGlobals(group.command('show').description('one item in full').argument('<id>', 'item id')).action(
    run((ctx, _options, id: string) => memory.show(ctx, id)),
  );
  withGlobals(
    group
      .command('propose')
      .description('contribute an item (analyst role; pending until a knowledge admin reviews it)')
      .requiredOption('--title <text>', 'title, 1–200 characters')
      .requiredOption('--category <name>', "one of the server's categories")
      .option('--content <text>', 'the content, 1–10,000 characters')
      .option('--file <path>', 'read the content from a file')
      .option('--tags <list>', 'comma list of up to 10 tags')
      .option('--audience <audience>', 'all (default) or group:<group id>'),
  ).action(run((ctx, options: memory.ProposeOptions) => memory.propose(ctx, options)));
  withGlobals(
    group
      .command('vote')
      .description('vote on an approved or mandatory item')
      .argument('<id>', 'item id')
      .addArgument(
        new Argument('<vote>', 'up, down, or clear to take your vote back').choices(memory.VOTE_CHOICES),
      ),
  ).action(run((ctx, _options, id: string, choice: memory.VoteChoice) => memory.vote(ctx, id, choice)));
}
