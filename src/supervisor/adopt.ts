import { join } from 'node:path';
import { restartedReason } from '../core/reasons.js';
import type { Policy } from '../core/policy.js';
import type { Run } from '../core/run.js';
import { removeCgroup } from '../os/cgroup.js';
import { bootId } from '../os/procfs.js';
import { inRunsFolder } from '../os/run-folder.js';
import { readTail } from '../os/tail.js';
import { fileMtime, fileSize } from './live-run.js';
import { orphanedWorker } from './orphan.js';
import { adoptedClock, readRunStart } from './run-start.js';
import { readCgroupFile, readExitFile, runningShim } from './spawn.js';
import type { Supervision } from './supervision.js';

/**
 * A run claimed but with no recorded process: serve may have died between spawning its shim
 * and recording it. The shim wrote its pid first thing; if that process is this run's shim,
 * record it now, so it is adopted rather than duplicated (P3).
 */
async function recoverSpawn(sv: Supervision, run: Run, runDir: string): Promise<Run> {
  if (run.process !== null) return run;
  const identity = runningShim(runDir);
  if (identity === null) return run;
  const logPath = join(runDir, 'output.log');
  await sv.opts.store.recordSpawn(run.id, identity, logPath);
  return { ...run, process: identity, log_path: logPath };
}

/**
 * Adopts one run of this host after a restart (SPEC §3 "Restart"): re-adopts it when its
 * process identity still matches, books it by its recorded exit status when it ended
 * meanwhile, and closes it `host_lost` when nothing of it can be running. A restart is never
 * counted against a task as a failure of its own.
 */
export async function adopt(sv: Supervision, found: Run, policy: Policy): Promise<void> {
  const { opts } = sv;
  const runDir = join(opts.runsDir, String(found.id));
  const run = await recoverSpawn(sv, found, runDir);
  // A run recorded with its log in another home's runs: this database is a copy of that
  // home's (a backup restored elsewhere), and its worker, if alive, is that home's to watch.
  const elsewhere = run.log_path !== null && !inRunsFolder(run.log_path, opts.runsDir);
  if (
    run.process === null ||
    run.log_path === null ||
    run.process.boot_id !== bootId() ||
    elsewhere
  ) {
    // Nothing of it can be running here: book it as lost with its host (not the task's fault),
    // and never signal a process group id that may now belong to someone else.
    // Another home's first: a copy restored on another machine has other boot ids too, and
    // this home's folder of the same id is another run's.
    const why =
      run.process === null || run.log_path === null
        ? 'not_started'
        : elsewhere
          ? 'other_home'
          : 'rebooted';
    // A report its worker kept while serve did not answer is booked first (the worker's
    // report decides over the loss): a machine that rebooted after the worker finished
    // must not throw its work away. Another home's is that home's.
    if (why !== 'other_home') {
      await opts
        .keptReport?.({ runId: run.id, taskId: run.task_id, board: run.board, runDir })
        .catch((err: unknown) => sv.log(`run ${run.id}: its kept report: ${String(err)}`));
    }
    const reason = restartedReason(why, opts.host, run.attempt);
    await sv.endings.lost(
      { runId: run.id, taskId: run.task_id },
      reason,
      run.log_path && why !== 'other_home' ? readTail(run.log_path) : null,
    );
    // A cgroup made for it goes too; the kernel refuses to remove one that holds a process.
    const cgroup = readCgroupFile(runDir);
    if (cgroup !== null) removeCgroup(cgroup);
    return;
  }
  // Where its processes are beyond its group: the cgroup its folder names, else its token.
  const live = sv.track(run, run.process, runDir, run.log_path, policy, {
    cgroup: readCgroupFile(runDir),
    tokenHash: await opts.store.runTokenHash(run.id),
  });
  // Progress is the later of the stored time and the log's last write (SPEC §3).
  const mtime = fileMtime(run.log_path);
  const lastProgress = Math.max(
    run.last_progress_at ?? 0,
    mtime !== null && mtime > run.started_at ? mtime : 0,
  );
  // On this serve's monotonic clock, with the machine's sleeps since the start left out.
  const clock = adoptedClock(
    { startedAt: run.started_at, lastProgress: lastProgress > 0 ? lastProgress : null },
    readRunStart(runDir),
    opts.clock,
  );
  live.clock.started = clock.started;
  live.clock.lastProgress = clock.lastProgress;
  // What the worker printed while no serve looked is its last output, and output is progress:
  // an ending's reason ("last output 14s earlier") reads these, not the stamps of before.
  if (mtime !== null && mtime > (run.last_output_at ?? run.started_at)) {
    live.lastOutputWall = mtime;
    live.lastProgressWall = Math.max(live.lastProgressWall ?? 0, mtime);
    live.dirty = true;
  }
  live.clock.warned = run.stall_warned_at !== null;
  live.outputBytes = fileSize(run.log_path);
  const exited = readExitFile(runDir) !== null;
  const alive =
    sv.processes.isSameProcessAlive(run.process) ||
    orphanedWorker(runDir, run.process.pid) !== null;
  if (!exited && alive) {
    await opts.store.writeEvent(sv.actor, {
      kind: 'adopted',
      board: run.board,
      task_id: run.task_id,
      run_id: run.id,
      payload: { pid: run.process.pid, attempt: run.attempt, state: run.state },
    });
    sv.log(`adopted run ${run.id} of task ${run.task_id} (pid ${run.process.pid})`);
  }
  if (run.state === 'ending') sv.endings.resume(live, run);
  sv.kick(live);
}
