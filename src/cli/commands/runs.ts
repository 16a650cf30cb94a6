import type { Command } from 'commander';
import { parseTaskId } from '../../core/checks.js';
import { invalid, notFound } from '../../core/errors.js';
import { buildTimeline } from '../../core/timeline.js';
import type { RunTimeline } from '../../core/timeline.js';
import type { Store } from '../../store/store.js';
import { READING, withContext } from '../context.js';
import { runLines } from '../format.js';
import { parseIntOption } from '../options.js';
import { say, sayJson } from '../output.js';
import { timelineLines } from '../timeline-format.js';
import { redactRun } from '../../core/hidden-env.js';

/** The timeline of a task's run: its newest, or the one of `attempt`. */
async function taskTimeline(
  store: Store,
  taskId: number,
  attempt: number | undefined,
): Promise<RunTimeline> {
  const runs = await store.listRuns(taskId);
  const run = attempt === undefined ? runs.at(-1) : runs.find((r) => r.attempt === attempt);
  if (!run)
    throw notFound(
      attempt === undefined
        ? `task ${taskId} has no runs yet, so no timeline`
        : `task ${taskId} has no attempt ${attempt}; see \`warden runs ${taskId}\``,
    );
  return buildTimeline(await store.timelineFacts(run.id), Date.now());
}

export function register(program: Command): void {
  program
    .command('runs')
    .description("list a task's runs with their outcome and the reason in words")
    .argument('<id>', 'the task id')
    .option('--json', 'print the runs as JSON')
    .option(
      '--timeline',
      'the newest run on one time axis: output, progress, model requests, commits, warnings, signals, ending',
    )
    .option('--attempt <n>', 'with --timeline: the run of this attempt instead of the newest')
    .action(
      async (idText: string, opts: { json?: boolean; timeline?: boolean; attempt?: string }) => {
        const id = parseTaskId(idText);
        if (opts.attempt !== undefined && !opts.timeline)
          throw invalid('--attempt: only with --timeline');
        const attempt =
          opts.attempt === undefined ? undefined : parseIntOption(opts.attempt, '--attempt');
        if (attempt !== undefined && attempt < 1) throw invalid('--attempt: must be at least 1');
        if (opts.timeline) {
          const t = await withContext((ctx) => taskTimeline(ctx.store, id, attempt), READING);
          if (opts.json) sayJson(t);
          else say(timelineLines(t));
          return;
        }
        const runs = await withContext((ctx) => ctx.store.listRuns(id), READING);
        if (opts.json) sayJson(runs.map(redactRun));
        else say(runLines(runs, Date.now()));
      },
    );
}
