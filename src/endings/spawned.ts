import { dispatcher, person } from '../core/actor.js';
import type { Actor } from '../core/actor.js';
import type { Clock } from '../core/clock.js';
import { ENDING_TIMINGS } from '../core/defaults.js';
import { RunRule, workerDecides } from '../core/ending.js';
import type { EndResult, StopIntent } from '../core/ending.js';
import type { ExitStatus } from '../core/exit.js';
import type { Policy, PolicyOverrides } from '../core/policy.js';
import { ENDED_ELSEWHERE, stoppedReason } from '../core/reasons.js';
import type { Observed } from '../core/reasons.js';
import type { ProcessIdentity, Run, RunReason } from '../core/run.js';
import type { Outcome } from '../core/status.js';
import type { ProgressUpdate, RunFinal } from '../store/run-types.js';
import type { Store } from '../store/store.js';
import { GroupEnding } from './phases.js';
import type { ProcessLayer } from './process-layer.js';
import type { RunEvidence } from '../core/worktree.js';

/** An ending under way: what it will record, its phases, and who waits for it. */
export interface Ending {
  outcome: Outcome;
  reason: RunReason;
  machine: GroupEnding;
  waiters: ((r: EndResult) => void)[];
  /** How many of the escaped processes on its phases an event has reported. */
  reported: number;
}

/** What ending a spawned run needs of the supervisor's record of it. */
export interface EndingRun {
  runId: number;
  taskId: number;
  board: string;
  attempt: number;
  /** The shim's identity; it leads the worker's process group. */
  identity: ProcessIdentity;
  /** The run's cgroup v2 folder, when one was made for it (`os/cgroup.ts`). */
  cgroup: string | null;
  /** The SHA-256 of the run's token, to know its processes by their environment without one. */
  tokenHash: string | null;
  policy: Policy;
  ending: Ending | null;
  /** Set once the run is closed and no longer tracked. */
  closed: boolean;
  /** Serialises the work done on this run. */
  queue: Promise<void>;
}

/** What a closed run left behind, read by its supervisor. */
export interface Leftovers {
  exit: ExitStatus | null;
  log_tail: string;
  progress: ProgressUpdate;
}

/** What the endings of one host's spawned runs need from it. */
export interface SpawnedEndingsOptions {
  store: Store;
  host: string;
  clock: Clock;
  config: PolicyOverrides;
  processes: ProcessLayer;
  log: (line: string) => void;
  /** Looks at the run again (a serialised look, which advances its ending). */
  kick: (run: EndingRun) => void;
  /** What the run left: its exit status, the tail of its log, its last progress. */
  leftovers: (run: EndingRun) => Leftovers;
  /** The run is closed: stop tracking it (`freed`: it was closed here, and its slot is free). */
  forget: (run: EndingRun, freed: boolean) => void;
  /**
   * What the run left in its workspace, gathered at every ending before the close (worktree
   * workspaces: evidence and a rescue ref; a failed setup). Bounded in time by its maker.
   */
  workspace?: WorkspaceEnding;
}

/** What an ending records of a run's workspace (src/supervisor/worktree.ts makes it). */
export type WorkspaceEnding = (
  run: { runId: number; taskId: number },
  outcome: Outcome,
) => Promise<{ evidence: RunEvidence | null; reason: RunReason | null }>;

/**
 * Every ending of the spawned runs of one host, through one path (SPEC §3): fence the run in
 * the store, SIGTERM the group, wait `kill_grace`, SIGKILL, verify the group is empty, then
 * close the run and release its task through the one accounting function. A group that
 * survives SIGKILL is held: its task stays `running`, so nothing starts beside it.
 */
export class SpawnedEndings {
  private readonly actor: Actor;

  constructor(private readonly opts: SpawnedEndingsOptions) {
    this.actor = dispatcher(opts.host);
  }

  private get ctx(): { host: string; config: PolicyOverrides } {
    return { host: this.opts.host, config: this.opts.config };
  }

  private newEnding(
    run: EndingRun,
    outcome: Outcome,
    reason: RunReason,
    now: boolean,
    waitExit: boolean,
  ): Ending {
    const machine = new GroupEnding(
      { pgid: run.identity.pid, runId: run.runId, cgroup: run.cgroup, tokenHash: run.tokenHash },
      now ? 0 : run.policy.kill_grace,
      this.opts.clock.monotonic(),
      waitExit ? run.policy.exit_after_complete : null,
    );
    return { outcome, reason, machine, waiters: [], reported: 0 };
  }

  /**
   * Ends a run this host watches: fences it with `outcome` and `reason` and drives the phases.
   * When someone fenced first (a worker's report, a stop), follows the stored ending instead.
   */
  async begin(
    run: EndingRun,
    outcome: Outcome,
    reason: RunReason,
    stop?: { intent: StopIntent; by: Actor },
  ): Promise<void> {
    const { store } = this.opts;
    const won = await store.beginEnding(
      run.runId,
      outcome,
      reason,
      stop?.by ?? this.actor,
      stop?.intent,
    );
    if (!won) {
      const stored = await store.getRun(run.runId);
      if (stored.state === 'ended') return this.closed(run, false);
      this.resume(run, stored);
    } else {
      run.ending = this.newEnding(run, outcome, reason, stop?.intent.now === true, false);
    }
    return this.advance(run);
  }

  /**
   * Takes over an ending already in the store: a worker's report (its process gets
   * `exit_after_complete` to exit by itself), a stop fenced through another host's API, or
   * any ending a restart interrupted.
   */
  resume(run: EndingRun, stored: Run): void {
    const reported = workerDecides(stored.outcome) || stored.reason?.rule === RunRule.worker_failed;
    run.ending = this.newEnding(
      run,
      stored.outcome ?? 'crashed',
      stored.reason ?? ENDED_ELSEWHERE,
      stored.stop_intent?.now === true,
      reported,
    );
  }

  /**
   * The run was closed without this host (SPEC §3): its processes must not outlive it.
   * `now`: several hosts, where its task may already run elsewhere: SIGKILL at once.
   */
  endedElsewhere(run: EndingRun, now: boolean): void {
    if (run.ending === null) {
      run.ending = this.newEnding(run, 'stopped', ENDED_ELSEWHERE, now, false);
    } else if (now) {
      run.ending.machine.hurry();
    }
  }

  /** One look at an ending: signals by its phase, closes the run once no process of it is left. */
  async advance(run: EndingRun): Promise<void> {
    const e = run.ending;
    if (e === null || run.closed) return;
    const step = e.machine.step(this.opts.clock.monotonic(), this.opts.processes);
    await this.reportEscapes(run, e);
    switch (step) {
      case 'gone':
        return this.close(run, e);
      case 'pending':
        return this.poll(run);
      case 'held':
        // Looked at again (and SIGKILLed again) at every tick.
        return this.hold(run, e);
      case 'holding':
        return;
    }
  }

  /** Looks again soon: an ending should not wait for the next tick to notice a death. */
  private poll(run: EndingRun): void {
    // Not unref'd: a CLI ending a run locally (no serve) must stay up until it is verified.
    setTimeout(() => this.opts.kick(run), ENDING_TIMINGS.poll_ms);
  }

  /**
   * Processes that left the run's group (setsid, a daemon) would have outlived it unseen: each
   * one found is said in a `processes_escaped` event and the log, and listed on the phases.
   */
  private async reportEscapes(run: EndingRun, e: Ending): Promise<void> {
    const listed = e.machine.record.escaped ?? [];
    if (listed.length <= e.reported) return;
    const fresh = listed.slice(e.reported);
    e.reported = listed.length;
    await this.opts.store.writeEvent(this.actor, {
      kind: 'processes_escaped',
      board: run.board,
      task_id: run.taskId,
      run_id: run.runId,
      payload: {
        pgid: e.machine.pgid,
        outcome: e.outcome,
        escaped: fresh.map((p) => ({ pid: p.pid, command: p.command })),
      },
    });
    this.opts.log(
      `run ${run.runId}: ${fresh.length} process(es) had left its process group, ended with it: ${fresh.map((p) => `${p.pid} (${p.command})`).join(', ')}`,
    );
  }

  private async hold(run: EndingRun, e: Ending): Promise<void> {
    const pgid = e.machine.pgid;
    await this.opts.store.recordEndingPhases(run.runId, e.machine.record);
    await this.opts.store.writeEvent(this.actor, {
      kind: 'kill_failed',
      board: run.board,
      task_id: run.taskId,
      run_id: run.runId,
      payload: { pgid, pid: run.identity.pid, outcome: e.outcome, phases: { ...e.machine.record } },
    });
    this.opts.log(
      `run ${run.runId}: process group ${pgid}${e.machine.record.escaped ? ' or the processes that left it' : ''} survived SIGKILL; the task stays held`,
    );
    this.settle(e, run.runId, false);
  }

  /**
   * The workspace's part of an ending (evidence, a rescue, a failed setup): never allowed to
   * stop the ending, so a failure is logged and the run closes without it.
   */
  private async workspace(
    r: { runId: number; taskId: number },
    outcome: Outcome,
  ): Promise<{ evidence: RunEvidence | null; reason: RunReason | null }> {
    if (!this.opts.workspace) return { evidence: null, reason: null };
    try {
      return await this.opts.workspace(r, outcome);
    } catch (err) {
      this.opts.log(`run ${r.runId}: its workspace's evidence was not gathered: ${String(err)}`);
      return { evidence: null, reason: null };
    }
  }

  private async close(run: EndingRun, e: Ending): Promise<void> {
    const left = this.opts.leftovers(run);
    const ws = await this.workspace(run, e.outcome);
    const final: RunFinal = {
      outcome: e.outcome,
      reason: ws.reason ?? e.reason,
      evidence: ws.evidence,
      exit_code: left.exit?.code ?? null,
      signal: left.exit?.signal ?? null,
      log_tail: left.log_tail,
      progress: left.progress,
      phases: { ...e.machine.record },
    };
    await this.opts.store.finishRun(run.runId, final, this.ctx);
    this.settle(e, run.runId, true);
    this.closed(run, true);
  }

  private closed(run: EndingRun, freed: boolean): void {
    run.closed = true;
    this.opts.forget(run, freed);
  }

  private settle(e: Ending, runId: number, verified: boolean): void {
    const result: EndResult = {
      run_id: runId,
      outcome: e.outcome,
      verified_gone: verified,
      message: verified
        ? `run ${runId} ended ${e.outcome}; its processes are gone`
        : `run ${runId}: the process group would not die; the task stays held (kill_failed)`,
    };
    for (const w of e.waiters.splice(0)) w(result);
  }

  /**
   * Ends a run `stopped` for a person (SPEC §6) and waits until its processes are verified
   * gone, or found unkillable. The person is named on the reason and acts the ending.
   */
  stop(run: EndingRun, by: string, intent: StopIntent, seen: () => Observed): Promise<EndResult> {
    return new Promise<EndResult>((resolve, reject) => {
      // A failure (the store away) fails this stop, and leaves the run's queue sound for the
      // looks after it; unhandled in the queue, it ended `serve`.
      run.queue = run.queue
        .then(async () => {
          if (run.ending === null && !run.closed) {
            const reason = stoppedReason(by, intent, seen());
            await this.begin(run, 'stopped', reason, { intent, by: person(by) });
          } else if (intent.now) {
            run.ending?.machine.hurry();
          }
          if (!run.closed && run.ending) run.ending.waiters.push(resolve);
          else
            resolve({
              run_id: run.runId,
              outcome: 'stopped',
              verified_gone: true,
              message: `run ${run.runId} ended`,
            });
        })
        .catch(reject);
    });
  }

  /**
   * Ends a run whose worker never started (it could not be spawned, or the host lost it
   * first), unless someone else fenced it first; then its fence decides.
   */
  async notStarted(
    run: { runId: number; taskId: number },
    outcome: Outcome,
    reason: RunReason,
  ): Promise<void> {
    await this.endUnstarted(run, outcome, reason);
  }

  /** Ends a run that never started unless it was fenced first; whether it was ended here. */
  private async endUnstarted(
    run: { runId: number; taskId: number },
    outcome: Outcome,
    reason: RunReason,
    stop?: { intent: StopIntent; by: Actor },
  ): Promise<boolean> {
    const { store } = this.opts;
    if (
      !(await store.beginEnding(run.runId, outcome, reason, stop?.by ?? this.actor, stop?.intent))
    )
      return false;
    const ws = await this.workspace(run, outcome);
    await store.finishRun(run.runId, { outcome, reason, evidence: ws.evidence }, this.ctx);
    return true;
  }

  /**
   * Ends `stopped` for a person a run whose worker never started (its start was stopped while
   * its worktree was being made), as `stop` ends a running one; a run ended otherwise first
   * (its worktree refused, another host's fence) keeps that ending.
   */
  async stoppedUnstarted(
    run: { runId: number; taskId: number; attempt: number },
    by: string,
    intent: StopIntent,
    host: string,
  ): Promise<EndResult> {
    const reason = stoppedReason(by, intent, { host, attempt: run.attempt });
    if (await this.endUnstarted(run, 'stopped', reason, { intent, by: person(by) })) {
      return {
        run_id: run.runId,
        outcome: 'stopped',
        verified_gone: true,
        message: `run ${run.runId} ended stopped before its worker started`,
      };
    }
    const stored = await this.opts.store.getRun(run.runId);
    return {
      run_id: run.runId,
      outcome: stored.outcome ?? 'stopped',
      verified_gone: true,
      message: `run ${run.runId} ended ${stored.outcome ?? ''} before the stop reached it`,
    };
  }

  /** Closes a run that cannot be running any more (its host restarted), fenced or not. */
  async lost(
    run: { runId: number; taskId: number },
    reason: RunReason,
    logTail: string | null,
  ): Promise<void> {
    const ws = await this.workspace(run, 'host_lost');
    await this.opts.store.endRun(
      run.runId,
      { outcome: 'host_lost', reason, log_tail: logTail, evidence: ws.evidence },
      this.ctx,
      this.actor,
    );
  }
}
