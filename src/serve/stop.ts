import type { Actor } from '../core/actor.js';
import { ENDING_TIMINGS } from '../core/defaults.js';
import type { EndResult, StopIntent } from '../core/ending.js';
import { WardenError, illegalState } from '../core/errors.js';
import { readAdminToken } from '../config/home.js';
import { isStoppedProcess } from '../os/procfs.js';
import { callApi } from '../sdk/http.js';
import { liveServe, owningServe, whileRenewing } from './find.js';
import type { ServeLookup } from './find.js';
import { withHome } from './home-lock.js';
import { homeSupervisor } from './wiring.js';
import type { HomeParts } from './wiring.js';

/** The refusal while this home's `serve` is stopped: say it at once, not after minutes. */
export function serveStopped(pid: number): WardenError {
  return new WardenError(
    'conflict',
    `warden serve (pid ${pid}) is stopped (SIGSTOP, Ctrl-Z or a debugger): it answers nothing and watches nothing until it continues; continue it (\`kill -CONT ${pid}\`), then try again`,
  );
}

/** What ending a task's run from a command needs. */
export type StopContext = HomeParts & ServeLookup & { actor: Actor };

/**
 * Ends a task's run for a person (stop, block, archive, reassign): through the `serve` that
 * runs it when there is one, else right here through the same supervisor and ending path,
 * holding the home meanwhile.
 */
export async function endTaskRun(
  ctx: StopContext,
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
    // A stopped serve's kernel takes the request, and it would wait out the whole bound.
    if (serve.process && isStoppedProcess(serve.process)) throw serveStopped(serve.process.pid);
    const runId = task.current_run_id;
    // Ending waits for kill_grace (30 s by default) and verification.
    const ask = (signal?: AbortSignal): Promise<EndResult> =>
      callApi<EndResult>(
        serve.url,
        readAdminToken(ctx.home),
        'POST',
        `/api/v1/tasks/${taskId}/stop`,
        // The run meant: a host that answers late (it was paused) must not end a later attempt.
        { ...intent, run_id: runId },
        ENDING_TIMINGS.stop_wait_ms,
        signal,
      );
    return ctx.where.kind === 'postgres' ? whileRenewing(ctx, serve, runId, ask) : ask();
  }
  const run = await ctx.store.getRun(task.current_run_id);
  const host = run.host_id ?? 'local';
  return withHome(
    ctx.store,
    host,
    ctx.where.kind === 'sqlite' ? ctx.where.path : null,
    async () => {
      const supervisor = homeSupervisor(ctx, host);
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
    },
  );
}
