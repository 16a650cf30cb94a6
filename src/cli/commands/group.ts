import type { Command } from 'commander';
import { invalid } from '../../core/errors.js';
import { checkName } from '../../core/checks.js';
import { READING, withContext } from '../context.js';
import { parseIntOption } from '../options.js';
import { formatTime, say, sayJson, table } from '../output.js';

export function register(program: Command): void {
  const group = program
    .command('group')
    .description(
      'concurrency groups: a cap shared by the profiles that name one (e.g. one model server)',
    );

  group
    .command('set')
    .description('set a group’s cap; profiles join with `profile edit P --concurrency-group NAME`')
    .argument('<name>', 'the group name')
    .requiredOption('--max-concurrency <n>', 'most live runs of the group at once')
    .option('--scope <scope>', "'board' (across hosts) or 'host' (per host)", 'board')
    .option('--json', 'print the group as JSON')
    .action(
      async (nameText: string, opts: { maxConcurrency: string; scope: string; json?: boolean }) => {
        const name = checkName(nameText, 'group name');
        if (opts.scope !== 'board' && opts.scope !== 'host') {
          throw invalid(`--scope: expected board or host, got '${opts.scope}'`);
        }
        const max = parseIntOption(opts.maxConcurrency, '--max-concurrency');
        const scope = opts.scope;
        const g = await withContext((ctx) => ctx.store.setGroup(name, max, scope, ctx.actor));
        if (opts.json) sayJson(g);
        else say(`group ${g.name}: at most ${g.max_concurrency ?? '∞'} at once (scope ${g.scope})`);
      },
    );

  group
    .command('list')
    .description('list concurrency groups with their caps and cooldowns')
    .option('--json', 'print the groups as JSON')
    .action(async (opts: { json?: boolean }) => {
      const groups = await withContext((ctx) => ctx.store.listGroups(), READING);
      if (opts.json) return sayJson(groups);
      if (groups.length === 0)
        return say('no groups; add one with `warden group set NAME --max-concurrency N`');
      say(
        table(
          ['NAME', 'MAX', 'SCOPE', 'COOLING DOWN UNTIL'],
          groups.map((g) => [
            g.name,
            g.max_concurrency === null ? '-' : String(g.max_concurrency),
            g.scope,
            g.not_before !== null && g.not_before > Date.now() ? formatTime(g.not_before) : '-',
          ]),
        ),
      );
    });
}
