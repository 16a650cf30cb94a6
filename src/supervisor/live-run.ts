import type { ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { RunRule } from '../core/ending.js';
import { interpretExit } from '../core/exit.js';
import type { ExitMeaning, ExitStatus } from '../core/exit.js';
import { silentFor } from '../core/liveness.js';
import type { LivenessPolicy, RunClock } from '../core/liveness.js';
import type { Policy } from '../core/policy.js';
import type { ProcessIdentity, RunReason } from '../core/run.js';
import type { Outcome } from '../core/status.js';
import { RESTORED_MARK, restoredNote } from '../core/restored-run.js';
import type { RestoredMark } from '../core/restored-run.js';
import type { LlmState } from '../core/llm.js';
import { ORPHAN_EXITED_MESSAGE, SHIM_KILLED_MESSAGE, VANISHED_MESSAGE } from '../core/reasons.js';
import type { Observed } from '../core/reasons.js';
import type { EndingRun } from '../endings/spawned.js';
import { KEPT_REPORT_REFUSAL } from '../sdk/kept-report.js';
import { LEASE_KILLED } from './freeze.js';
import type { WorkspaceWatch } from './workspace-progress.js';

/** One run this host supervises, with its progress kept in memory (SPEC §3). */
export interface LiveRun extends EndingRun {
  runDir: string;
  logPath: string;
  /** The shim, when this process started it; adopted runs have none. */
  child: ChildProcess | null;
  /** A look at the run is queued and not begun: another kick joins it (supervisor.ts `kick`). */
  lookQueued?: boolean;
  /** A look at the run is under way. */
  lookBusy?: boolean;
  /** What its last look failed with, said once: a full disk fails every look until freed. */
  lookError?: string;
  /** What the shim's own exit told us, for children of this process. */
  childExit: ExitStatus | null;
  /**
   * The worker itself, watched once its shim was killed while it ran on (./orphan.ts): its
   * exit is then seen, but its status is not known.
   */
  orphan?: ProcessIdentity;
  clock: RunClock;
  usedProtocol: boolean;
  outputBytes: number;
  progressCount: number;
  lastProgressWall: number | null;
  lastOutputWall: number | null;
  lastHeartbeatWall: number | null;
  /** When the last `progress` call came, in this process (for the timeline). */
  lastCallWall?: number;
  lastNote: string | null;
  /** What its model traffic does now (issue #13), and whether that changed since the batch. */
  llm?: { state: LlmState | null; since: number | null; changed: boolean };
  dirty: boolean;
  /** File changes here are progress (profiles that say so; worktrees by default). */
  workspace: WorkspaceWatch | null;
  /**
   * When the supervisor began to track it (a counter): a read of the store that began
   * earlier may not see its claim yet, so it is not taken to have ended elsewhere.
   */
  seq: number;
  /**
   * An ending decided for it in this process (`Supervisor.endFor`: the model proxy's spent
   * budget or rate limits), begun by the next look. The worker may exit on the proxy's answer
   * before then: the run still ends as decided, not by its exit code.
   */
  decided: { outcome: Outcome; reason: RunReason } | null;
}

/** The liveness fields of a policy. */
export function livenessPolicy(p: Policy): LivenessPolicy {
  return {
    stall_warn_after: p.stall_warn_after,
    stall_timeout: p.stall_timeout,
    max_runtime: p.max_runtime,
  };
}

/** The size of a file, or 0 if it is missing. */
export function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** The modification time of a file in epoch ms, or null. */
export function fileMtime(path: string): number | null {
  try {
    // Whole milliseconds, as every stamp is stored (PostgreSQL's BIGINT refuses a fraction).
    return Math.floor(statSync(path).mtimeMs);
  } catch {
    return null;
  }
}

/** What this host saw of a live run, for the numbers on the reason it ends with. */
export function observed(live: LiveRun, host: string, nowMono: number): Observed {
  return {
    host,
    attempt: live.attempt,
    limits: {
      stall_warn_after: live.policy.stall_warn_after,
      stall_timeout: live.policy.stall_timeout,
      max_runtime: live.policy.max_runtime,
      kill_grace: live.policy.kill_grace,
    },
    last_heartbeat_at: live.lastHeartbeatWall,
    last_progress_at: live.lastProgressWall,
    last_output_at: live.lastOutputWall,
    pid: live.identity.pid,
    silent_ms: Math.round(silentFor(live.clock, nowMono)),
  };
}

/**
 * What a worker's exit means: its shim's watcher killed it for the host's lapsed lease (the
 * host's loss), it vanished without a status, or its status read by the exit rules; the
 * message says so when `serve` refused a report the worker kept while serve did not answer,
 * and when a restore put back a database from before the worker's last reports.
 */
export function exitMeaning(live: LiveRun, status: ExitStatus): ExitMeaning {
  if (existsSync(join(live.runDir, LEASE_KILLED))) {
    return { outcome: 'host_lost', rule: RunRule.host_lease_lapsed, message: SHIM_KILLED_MESSAGE };
  }
  // A worker whose kept report was refused used the worker protocol, though the store never
  // heard it: its exit 0 is not taken for a completion.
  const refused = keptRefusal(live.runDir);
  const meaning: ExitMeaning =
    status.signal === 'unknown'
      ? {
          outcome: 'crashed',
          rule: RunRule.vanished,
          message: live.orphan ? ORPHAN_EXITED_MESSAGE : VANISHED_MESSAGE,
        }
      : interpretExit(status, live.policy.exit_zero, live.usedProtocol || refused !== null);
  const said =
    refused === null ? meaning : { ...meaning, message: `${meaning.message}; ${refused}` };
  const mark = restoredMark(live.runDir);
  return mark === null ? said : { ...said, message: said.message + restoredNote(mark, live) };
}

/**
 * Why `serve` refused the report the worker kept while serve did not answer, if it did: the
 * line it wrote, read only from a small regular file of this user (the folder is the worker's
 * to write: a FIFO there would hold the event loop, a link point anywhere).
 */
function keptRefusal(runDir: string): string | null {
  const file = join(runDir, KEPT_REPORT_REFUSAL);
  try {
    const st = lstatSync(file);
    if (!st.isFile() || st.uid !== process.getuid?.() || st.size > 4096) return null;
    return readFileSync(file, 'utf8').trim() || null;
  } catch {
    return null;
  }
}

/** The mark `warden restore` left on a run that was open in its backup, if any. */
function restoredMark(runDir: string): RestoredMark | null {
  try {
    return JSON.parse(readFileSync(join(runDir, RESTORED_MARK), 'utf8')) as RestoredMark;
  } catch {
    return null;
  }
}
