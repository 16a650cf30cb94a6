import type { Command } from 'commander';
import { parseTaskGraph } from '../../core/apply.js';
import type { ApplyResult } from '../../core/apply.js';
import { withContext } from '../context.js';
import { readGraphFile } from '../graph-file.js';
import { oneLine, say, sayJson, table } from '../output.js';

interface ApplyOptions {
  board?: string;
  dryRun?: boolean;
  json?: boolean;
}

function report(result: ApplyResult): void {
  const there = `${result.existing} already there`;
  say(
    result.dry_run
      ? `dry run of graph ${result.graph} on board ${result.board}: would create ${result.created}, ${there}; nothing changed`
      : `applied graph ${result.graph} to board ${result.board}: ${result.created} created, ${there}`,
  );
  say(
    table(
      ['NAME', 'ID', 'RESULT', 'STATUS', 'TITLE'],
      result.tasks.map((t) => [
        t.name,
        t.id === null ? '-' : String(t.id),
        t.result === 'exists' ? 'already there' : result.dry_run ? 'would create' : 'created',
        t.status,
        oneLine(t.title),
      ]),
    ),
  );
}

export function register(program: Command): void {
  program
    .command('apply')
    .description(
      'create a graph of tasks from a YAML or JSON file, all in one transaction or none; applying it again creates nothing new',
    )
    .argument('<file>', 'the graph: tasks with local names, `after` by name (see docs/cli.md)')
    .option('--board <name>', "the board (default: the file's `board`, else default)")
    .option('--dry-run', 'say what it would create, and change nothing')
    .option('--json', 'print the answer as JSON')
    .action(async (file: string, opts: ApplyOptions) => {
      const graph = parseTaskGraph(
        await readGraphFile(file),
        opts.board !== undefined ? { board: opts.board } : {},
      );
      const result = await withContext((ctx) =>
        ctx.store.applyGraph(graph, ctx.actor, { dryRun: opts.dryRun === true }),
      );
      if (opts.json) sayJson(result);
      else report(result);
    });
}
