import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { EndResult } from '../core/ending.js';
import {
  leaseGoneReason,
  restartedReason,
  spawnFailedReason,
  worktreeReason,
} from '../core/reasons.js';
import { resolvePolicy } from '../core/policy.js';
import { hashToken } from '../os/token.js';
import type { Claim } from '../store/run-types.js';
import { LeaseGoneError, prepareWatch } from './freeze.js';
import { runStartNow } from './run-start.js';
import { SpawnError, runEnv, spawnWorker } from './spawn.js';
import { llmEnv } from '../core/llm.js';
import type { Supervision } from './supervision.js';
import type { StartControl } from './starts.js';
import {
  WorktreeRefused,
  WorktreeStopped,
  WorktreeUnavailable,
  prepareWorktree,
} from './worktree.js';
import { watchWorkspace } from './workspace-progress.js';
import { watchesWorkspace } from '../core/worktree.js';

/**
 * Starts the worker of a claimed run under the shim (in a cgroup of its own where the machine
 * allows) and starts watching it, or ends the run `spawn_failed` with the operating system's
 * error (`host_lost` when the host's lease was gone before it could start: the host's loss,
 * not the profile's failure).
 */
export async function startWorker(
  sv: Supervision,
  claim: Claim,
  wardenEnv: Record<string, string>,
  control?: StartControl,
): Promise<EndResult | void> {
  const { run, token } = claim;
  const { opts } = sv;
  const runDir = join(opts.runsDir, String(run.id));
  const logPath = join(runDir, 'output.log');
  const cwd = run.cwd ?? runDir;
  const policy = resolvePolicy(opts.config, claim.profile.policy, claim.task.policy);
  let argv = run.argv;
  if (claim.profile.worktree !== null) {
    sv.makingWorktrees.add(run.id);
    try {
      argv = await prepareWorktree(opts.store, opts.host, claim, control?.signal);
    } catch (err) {
      if (
        !(err instanceof WorktreeStopped) &&
        !(err instanceof WorktreeRefused) &&
        !(err instanceof WorktreeUnavailable)
      ) {
        throw err;
      }
      return endUnmade(sv, claim, err, control);
    } finally {
      sv.makingWorktrees.delete(run.id);
    }
    // A person's stop that came once git was done: no worker is started either.
    const person = control?.stoppedBy();
    if (person) {
      const started = { runId: run.id, taskId: run.task_id, attempt: run.attempt };
      return sv.endings.stoppedUnstarted(started, person.by, person.intent, opts.host);
    }
  }
  try {
    if (claim.profile.cwd === 'workspace' && claim.profile.worktree === null)
      mkdirSync(cwd, { recursive: true, mode: 0o700 });
    const env = {
      ...opts.baseEnv(claim.profile.inherit_env),
      ...run.env,
      ...wardenEnv,
      ...runEnv(run, token, cwd),
      ...llmEnv(claim.profile.llm, wardenEnv.WARDEN_URL, token),
    };
    const watch = opts.freeze
      ? prepareWatch(runDir, opts.freeze, sv.starting.get(run.id) ?? 0)
      : undefined;
    // A standby made ahead if one waits; else the shim is spawned now, in a cgroup made now.
    const standby = sv.standbys.take();
    const cgroup = standby === null ? sv.runCgroup() : null;
    const spawned = spawnWorker(
      {
        runDir,
        logPath,
        argv,
        env,
        cwd,
        logCap: policy.log_cap,
        start: runStartNow(opts.clock),
        ...(watch ? { watch } : {}),
        ...(cgroup !== null ? { cgroup } : {}),
      },
      standby,
    );
    const live = sv.track(run, spawned.identity, runDir, logPath, policy, {
      cgroup: spawned.cgroup,
      tokenHash: hashToken(token),
    });
    if (watchesWorkspace(claim.profile)) live.workspace = watchWorkspace(cwd);
    live.child = spawned.child;
    spawned.child.on('exit', (code, signal) => {
      live.childExit = { code, signal };
      sv.kick(live);
    });
    spawned.child.unref();
    await opts.store.recordSpawn(run.id, spawned.identity, logPath);
  } catch (err) {
    if (!(err instanceof SpawnError)) throw err;
    if (err instanceof LeaseGoneError) {
      await sv.endings.notStarted(
        { runId: run.id, taskId: run.task_id },
        'host_lost',
        leaseGoneReason(err.message, opts.host, run.attempt),
      );
    } else {
      await sv.endings.notStarted(
        { runId: run.id, taskId: run.task_id },
        'spawn_failed',
        spawnFailedReason(err.message, opts.host, run.attempt),
      );
    }
  }
}

/**
 * Ends a run whose worktree was not made: `stopped` for a person's stop, `host_lost` when serve
 * is stopping (not counted against the task), `spawn_failed` when it could not be made for now
 * (tried again after the backoff), `config_error` when it cannot be made here.
 */
function endUnmade(
  sv: Supervision,
  claim: Claim,
  err: WorktreeStopped | WorktreeRefused | WorktreeUnavailable,
  control: StartControl | undefined,
): Promise<EndResult | void> {
  const { run } = claim;
  const host = sv.opts.host;
  const ids = { runId: run.id, taskId: run.task_id };
  const person = control?.stoppedBy() ?? null;
  if (person !== null) {
    const started = { ...ids, attempt: run.attempt };
    return sv.endings.stoppedUnstarted(started, person.by, person.intent, host);
  }
  if (err instanceof WorktreeStopped) {
    return sv.endings.notStarted(
      ids,
      'host_lost',
      restartedReason('not_started', host, run.attempt),
    );
  }
  if (err instanceof WorktreeUnavailable) {
    return sv.endings.notStarted(
      ids,
      'spawn_failed',
      spawnFailedReason(`worktree: ${err.message}`, host, run.attempt),
    );
  }
  // Nothing was made: the task blocks at once with what to do (a configuration error).
  return sv.endings.notStarted(ids, 'config_error', worktreeReason(err.message, host, run.attempt));
}
