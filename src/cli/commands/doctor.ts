import type { Command } from 'commander';
import { emptyLoad } from '../../core/admission.js';
import type { Caps, GroupCap } from '../../core/admission.js';
import { explainRun, explainWaiting } from '../../core/doctor.js';
import type { DoctorFacts } from '../../core/doctor.js';
import { DEFAULT_BOARD } from '../../core/glossary.js';
import { resolvePolicy } from '../../core/policy.js';
import type { Task } from '../../core/task.js';
import { checkName, parseTaskId } from '../../core/checks.js';
import { bootId, isSameProcessAlive } from '../../os/procfs.js';
import type { ReadContext } from '../context.js';
import { READING, withContext } from '../context.js';
import { say, sayJson } from '../output.js';
import { liveServe } from '../../serve/find.js';

async function facts(
  ctx: ReadContext,
  board: string,
  running: readonly Task[],
): Promise<DoctorFacts> {
  const now = Date.now();
  const serve = await liveServe(ctx);
  const profiles = new Map((await ctx.store.listProfiles()).map((p) => [p.name, p]));
  const groups = await ctx.store.listGroups();
  const load = emptyLoad();
  for (const t of running) {
    if (t.current_run_id === null) continue;
    const run = await ctx.store.getRun(t.current_run_id);
    if (serve === null || run.host_id === serve.host) load.host += 1;
    const p = run.profile === null ? undefined : profiles.get(run.profile);
    if (!p) continue;
    load.profiles.set(p.name, (load.profiles.get(p.name) ?? 0) + 1);
    if (p.concurrency_group !== null) {
      load.groups.set(p.concurrency_group, (load.groups.get(p.concurrency_group) ?? 0) + 1);
      load.hostGroups.set(p.concurrency_group, (load.hostGroups.get(p.concurrency_group) ?? 0) + 1);
    }
  }
  const groupCaps = new Map<string, GroupCap>();
  for (const g of groups)
    if (g.max_concurrency !== null)
      groupCaps.set(g.name, { max: g.max_concurrency, scope: g.scope });
  const caps: Caps = {
    host: ctx.config.serve.max_workers,
    profiles: new Map([...profiles.values()].map((p) => [p.name, p.max_concurrency])),
    groups: groupCaps,
  };
  const parentStatus = new Map<number, string>();
  for (const t of await ctx.store.listTasks({ board, include_archived: true }))
    parentStatus.set(t.id, t.status);
  return {
    now,
    dispatcherRunning: serve !== null,
    boardPaused: (await ctx.store.getBoard(board)).paused,
    profiles,
    groupCooldowns: new Map(
      groups.filter((g) => g.not_before !== null).map((g) => [g.name, g.not_before ?? 0]),
    ),
    caps,
    load,
    parentStatus,
  };
}

async function explain(ctx: ReadContext, task: Task, f: DoctorFacts): Promise<string> {
  if (task.current_run_id === null) return explainWaiting(task, f);
  const run = await ctx.store.getRun(task.current_run_id);
  const profile = run.profile === null ? undefined : f.profiles.get(run.profile);
  const policy = resolvePolicy(ctx.config.policy, profile?.policy ?? {}, task.policy);
  const alive =
    run.process === null || run.process.boot_id !== bootId()
      ? null
      : isSameProcessAlive(run.process);
  return explainRun(task, { run, policy, alive }, f.now, f.dispatcherRunning);
}

export function register(program: Command): void {
  program
    .command('doctor')
    .description(
      'explain in plain words what each running task is doing and why ready tasks are not starting',
    )
    .argument('[id]', 'one task')
    .option('--board <name>', 'the board', DEFAULT_BOARD)
    .option('--json', 'print the explanations as JSON')
    .action(async (idText: string | undefined, opts: { board: string; json?: boolean }) => {
      const board = checkName(opts.board, '--board');
      const out = await withContext(async (ctx) => {
        const one = idText === undefined ? null : await ctx.store.getTask(parseTaskId(idText));
        const boardName = one?.board ?? board;
        const running = await ctx.store.listTasks({ board: boardName, statuses: ['running'] });
        const f = await facts(ctx, boardName, running);
        const tasks =
          one !== null
            ? [one]
            : await ctx.store.listTasks({
                board: boardName,
                statuses: ['running', 'ready', 'blocked'],
              });
        const lines = [];
        for (const t of tasks)
          lines.push({ task_id: t.id, status: t.status, explanation: await explain(ctx, t, f) });
        const header = f.dispatcherRunning
          ? 'serve is running'
          : 'no warden serve is running for this home';
        const paused = [...f.profiles.values()].filter((p) => p.paused);
        return { header, paused, lines };
      }, READING);
      if (opts.json) return sayJson(out.lines);
      say(out.header);
      for (const p of out.paused)
        say(`profile ${p.name} is paused (${p.paused_by ?? 'person'}): ${p.paused_reason ?? ''}`);
      if (out.lines.length === 0) say('nothing is running, ready or blocked');
      for (const l of out.lines) say(l.explanation);
    });
}
