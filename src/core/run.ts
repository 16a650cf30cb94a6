import type { EpochMs, RunId, TaskId } from './glossary.js';
import type { Json } from './events.js';
import type { EndingPhases, RunRule, StopIntent } from './ending.js';
import type { Outcome, RunState } from './status.js';
import type { RunEvidence } from './worktree.js';
import type { RunLlm } from './llm.js';

/** Who a process is: a pid alone is reused, a start time alone repeats after a reboot. */
export interface ProcessIdentity {
  boot_id: string;
  pid: number;
  /** Start time of the process as the kernel reports it (clock ticks since boot). */
  start_time: string;
}

/**
 * Why a run ended, with the numbers behind it (SPEC §3 "Diagnosis"). Only `rule` and
 * `message` are always present.
 */
export interface RunReason {
  /** The rule that ended the run, e.g. `stall_timeout`, `exit_code`, `stopped_by`. */
  rule: RunRule;
  /** The reason in plain words. */
  message: string;
  limits?: Record<string, number | string>;
  last_heartbeat_at?: EpochMs | null;
  last_progress_at?: EpochMs | null;
  last_output_at?: EpochMs | null;
  alive?: boolean;
  host?: string;
  attempt?: number;
  exit_code?: number | null;
  signal?: string | null;
  /** The person whose action ended the run (stop, block, archive, reassign). */
  by?: string;
  /** The worker's last line of output, for an ending that was not a success. */
  last_output?: string;
  /** What each phase of the ending did, and when. */
  phases?: EndingPhases;
  extra?: Record<string, Json>;
}

/** What a run does: the task's work, or a review of it. */
export type RunRole = 'work' | 'review';

/** How a run's worker came to be: started by a host, or claimed by an external worker. */
export type RunMode = 'spawned' | 'pull';

/** One attempt at a task. */
export interface Run {
  id: RunId;
  task_id: TaskId;
  board: string;
  /** Increases by one per run of a task: the fencing epoch. */
  attempt: number;
  state: RunState;
  mode: RunMode;
  host_id: string | null;
  /** For pull runs: the external worker holding the run. */
  worker_id: string | null;
  profile: string | null;
  profile_version: number | null;
  argv: string[];
  env: Record<string, string>;
  cwd: string | null;
  process: ProcessIdentity | null;
  log_path: string | null;
  started_at: EpochMs;
  ending_at: EpochMs | null;
  ended_at: EpochMs | null;
  last_heartbeat_at: EpochMs | null;
  last_progress_at: EpochMs | null;
  last_output_at: EpochMs | null;
  progress_count: number;
  output_bytes: number;
  stall_warned_at: EpochMs | null;
  outcome: Outcome | null;
  reason: RunReason | null;
  exit_code: number | null;
  signal: string | null;
  /**
   * The last 4 KiB of the run's log. Workers write stdout and stderr to one file (not a pipe,
   * so they outlive a restart of `serve`), so this is the tail of both, in the order written.
   */
  log_tail: string | null;
  /** The note of the worker's latest `heartbeat` or `progress` call. */
  last_note: string | null;
  /** Whether the worker used the worker protocol (any `warden worker` call). */
  used_protocol: boolean;
  /** What a person asked for when they stopped the run, recorded when it was fenced. */
  stop_intent: StopIntent | null;
  /** What the worker reported with `complete`, if it did. */
  result: { summary: string; metadata: Json } | null;
  /** What it left in its git worktree, recorded at its ending (worktree workspaces only). */
  evidence: RunEvidence | null;
  /** Its model traffic through the proxy (issue #13): totals and what it is doing now. */
  llm: RunLlm;
  /** `work` on the task, or a `review` of the work (a reviewer profile's run, issue #14). */
  role: RunRole;
}
