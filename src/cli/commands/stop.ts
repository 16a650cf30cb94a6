import type { Command } from 'commander';
import { WardenError, illegalState } from '../../core/errors.js';
import { parseTaskId } from '../../core/validate.js';
import { takeHome } from '../../dispatcher/host.js';
import { workerBaseEnv, writeWardenShim } from '../../dispatcher/worker-env.js';
import type { EndResult, StopIntent } from '../../supervisor/live-run.js';
import { identify, isSameProcessAlive } from '../../supervisor/procfs.js';
import { Supervisor } from '../../supervisor/supervisor.js';
import { readAdminToken } from '../../config/home.js';
import { liveServeLock } from '../../config/serve-lock.js';
import type { HostRecord } from '../../store/run-types.js';
import type { CliContext } from '../context.js';
import { withContext } from '../context.js';
import { callApi } from '../../sdk/http.js';
import { say, sayJson } from '../output.js';

/**
 * The API of the live `serve` of this home, if one is running. Several hosts: this home's own
 * `serve` (its `serve.json`), else any host whose lease is good.
 */
export async function liveServe(ctx: CliContext): Promise<{ url: string; host: string } | null> {
  if (ctx.where.kind === 'postgres') {
    const own = liveServeLock(ctx.home);
    if (own) return { url: own.url, host: own.host_id };
    const other = (await renewingHosts(ctx)).find((h) => h.url !== null);
    return other?.url ? { url: other.url, host: other.host_id } : null;
  }
  for (const h of await ctx.store.activeHosts()) {
    if (h.url !== null && h.process !== null && isSameProcessAlive(h.process))
      return { url: h.url, host: h.host_id };
  }
  return null;
}

/** Several hosts: the hosts whose lease is good now (by the database's clock). */
async function renewingHosts(ctx: CliContext): Promise<HostRecord[]> {
  const lapsed = new Set((await ctx.store.lapsedHosts()).map((h) => h.host_id));
  return (await ctx.store.activeHosts()).filter(
    (h) => h.lease_expires_at !== null && !lapsed.has(h.host_id),
  );
}

/**
 * Several hosts: the API of the host whose `serve` runs this run, while its lease is good.
 * Its processes are on that machine, so no other process can end them; a host whose lease
 * lapsed has its runs ended `host_lost` by the others.
 */
async function owningServe(
  ctx: CliContext,
  runId: number,
): Promise<{ url: string; host: string } | null> {
  const run = await ctx.store.getRun(runId);
  // A pull run is ended through any host's API (its worker learns it at its next renewal).
  if (run.mode === 'pull') {
    const any = await liveServe(ctx);
    if (any) return any;
    throw new WardenError(
      'conflict',
      `run ${runId} is a pull run and no host's serve is renewing its lease; start \`warden serve\` and try again`,
    );
  }
  const owner = (await renewingHosts(ctx)).find((h) => h.host_id === run.host_id);
  if (!owner || owner.url === null) {
    throw new WardenError(
      'conflict',
      `run ${runId} is on host ${run.host_id ?? '?'}, whose serve is not renewing its lease; other hosts end its runs (host_lost) once the lease lapses — try again then`,
    );
  }
  return { url: owner.url, host: owner.host_id };
}

/** Ends a task's run, through `serve` when it runs, else right here (the same ending path). */
export async function endTaskRun(
  ctx: CliContext,
  taskId: number,
  intent: StopIntent,
): Promise<EndResult> {
  const task = await ctx.store.getTask(taskId);
  if (task.current_run_id === null) {
    throw illegalState(`task ${taskId} has no run in progress (it is ${task.status})`);
  }
  const serve =
    ctx.where.kind === 'postgres'
      ? await owningServe(ctx, task.current_run_id)
      : await liveServe(ctx);
  if (serve) {
    // Ending waits for kill_grace (30 s by default) and verification, so allow minutes.
    return callApi<EndResult>(
      serve.url,
      readAdminToken(ctx.home),
      'POST',
      `/api/v1/tasks/${taskId}/stop`,
      intent,
      5 * 60_000,
    );
  }
  const run = await ctx.store.getRun(task.current_run_id);
  const host = run.host_id ?? 'local';
  await takeHome(ctx.store, host, null);
  try {
    const supervisor = new Supervisor({
      store: ctx.store,
      host,
      clock: ctx.clock,
      config: ctx.config.policy,
      runsDir: ctx.home.runs,
      baseEnv: () => workerBaseEnv(writeWardenShim(ctx.home.root)),
    });
    await supervisor.adoptOne(run.id);
    const by = ctx.actor.kind === 'person' ? ctx.actor.name : 'a person';
    const result = await supervisor.stop(taskId, by, intent);
    return (
      result ?? {
        run_id: run.id,
        outcome: 'stopped',
        verified_gone: true,
        message: `run ${run.id} had already ended`,
      }
    );
  } finally {
    const me = identify(process.pid);
    if (me) await ctx.store.releaseHome(host, me);
  }
}

export function register(program: Command): void {
  program
    .command('stop')
    .description(
      'end a task’s run and wait until its processes are verified gone; the task is blocked unless --requeue',
    )
    .argument('<id>', 'the task id')
    .option('--requeue', 'put the task back in line instead of blocking it')
    .option('--now', 'skip the kill grace: SIGKILL at once')
    .option('--json', 'print the result as JSON')
    .action(async (idText: string, opts: { requeue?: boolean; now?: boolean; json?: boolean }) => {
      const id = parseTaskId(idText);
      const result = await withContext((ctx) =>
        endTaskRun(ctx, id, { requeue: opts.requeue ?? false, now: opts.now ?? false }),
      );
      if (opts.json) sayJson(result);
      if (!result.verified_gone) throw new WardenError('setup', result.message);
      if (!opts.json) say(result.message);
    });
}
