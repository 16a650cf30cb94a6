import { formatDuration } from '../core/duration.js';
import type { ExitStatus } from '../core/exit.js';
import { judgeLiveness } from '../core/liveness.js';
import { observedReason, stallReason, timeoutReason } from '../core/reasons.js';
import { exitMeaning, fileSize, livenessPolicy, observed } from './live-run.js';
import { statusFromShell } from '../os/exit-status.js';
import { recordLogCut } from './log-cap.js';
import type { LiveRun } from './live-run.js';
import { sawProgress } from './progress.js';
import { sampleWorkspace } from './workspace-progress.js';
import { orphanedWorker } from './orphan.js';
import { readExitFile } from './spawn.js';
import type { Supervision } from './supervision.js';

/** A worker that ended with no status anyone saw. */
const UNKNOWN: ExitStatus = { code: null, signal: 'unknown' };

/**
 * How the worker ended, if it has: its shim's record, else the shim's end. A shim that ended
 * with no record was killed: its worker may run on (./orphan.ts), and is then watched by
 * itself, not killed for its shim's loss; once it exits, its status is not known.
 */
export function exitStatus(sv: Supervision, live: LiveRun): ExitStatus | null {
  const recorded = readExitFile(live.runDir);
  if (recorded !== null) return statusFromShell(recorded);
  if (live.orphan) return sv.processes.isSameProcessAlive(live.orphan) ? null : UNKNOWN;
  const shimEnded =
    live.childExit ??
    (live.child === null && !sv.processes.isSameProcessAlive(live.identity) ? UNKNOWN : null);
  if (shimEnded === null) return null;
  const worker = orphanedWorker(live.runDir, live.identity.pid);
  if (worker === null) return shimEnded;
  live.orphan = worker;
  sv.log(
    `run ${live.runId}: its shim (pid ${live.identity.pid}) was killed, but the worker ` +
      `(pid ${worker.pid}) runs on: watching the worker itself; its exit status will not be known`,
  );
  return null;
}

/**
 * One look at a run (SPEC §3): an ending under way is advanced and a decided one begun;
 * otherwise new output is progress, an exit begins its ending, and silence or age is judged
 * against the policy.
 */
export async function examine(sv: Supervision, live: LiveRun): Promise<void> {
  const { opts } = sv;
  if (!sv.live.has(live.runId)) return;
  // Output while a run is being ended is not progress: the decision is already made.
  if (live.ending !== null) return sv.endings.advance(live);
  // An ending decided in this process (`Supervisor.endFor`) begins at the next look, whatever
  // else it would see: the worker may already have exited on the proxy's refusal.
  if (live.decided !== null)
    return sv.endings.begin(live, live.decided.outcome, live.decided.reason);
  // A report the worker kept while serve did not answer is its report, booked at the first
  // look that finds it (a later one is refused, as a second report is), before its exit is
  // read; the ending then takes it.
  await opts.keptReport?.(live);
  const size = fileSize(live.logPath);
  // The shim cuts the log's middle past log_cap: a log that shrank has had output too.
  if (size !== live.outputBytes) {
    live.outputBytes = size;
    live.lastOutputWall = opts.clock.now();
    sawProgress(opts.clock, live, live.lastOutputWall);
  }
  sampleWorkspace(sv, live);
  await recordLogCut(sv, live);
  // After a stop of serve, an answer awaited above can come before the beats' timer.
  sv.absences.beat();
  const now = opts.clock.monotonic();
  // What the host saw, for the reason of an ending: built only when one begins.
  const seen = (): ReturnType<typeof observed> => observed(live, opts.host, now);
  const status = exitStatus(sv, live);
  if (status !== null) {
    // Whether it used the worker protocol decides what exit 0 means; the store knows for sure.
    if (!live.usedProtocol) live.usedProtocol = (await opts.store.getRun(live.runId)).used_protocol;
    const meaning = exitMeaning(live, status);
    const reason = observedReason(meaning.rule, meaning.message, seen(), status);
    return sv.endings.begin(live, meaning.outcome, reason);
  }
  const verdict = judgeLiveness(live.clock, livenessPolicy(live.policy), now);
  switch (verdict.action) {
    case 'none':
      return;
    case 'warn': {
      live.clock.warned = true;
      await opts.store.markStallWarning(live.runId, opts.host, {
        silent_ms: Math.round(verdict.silentFor),
        stall_warn_after: live.policy.stall_warn_after,
        stall_timeout: live.policy.stall_timeout,
        pid: live.identity.pid,
        attempt: live.attempt,
      });
      sv.log(`run ${live.runId}: silent for ${formatDuration(verdict.silentFor)}; stall warning`);
      return;
    }
    case 'stall':
      return sv.endings.begin(live, 'stalled', stallReason(verdict.silentFor, live.policy, seen()));
    case 'timeout':
      return sv.endings.begin(
        live,
        'timed_out',
        timeoutReason(verdict.ranFor, live.policy, seen()),
      );
  }
}
