import type { ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { interpretExit } from '../core/exit.js';
import { silentFor } from '../core/liveness.js';
import type { LivenessPolicy, RunClock } from '../core/liveness.js';
import type { Policy } from '../core/policy.js';
import type { ProcessIdentity, RunReason } from '../core/run.js';
import type { BlockKind, Outcome } from '../core/status.js';
import type { ExitStatus } from '../core/exit.js';
import { LEASE_KILLED } from './freeze.js';

/** The result of ending a run, for `warden stop`. */
export interface EndResult {
  run_id: number;
  outcome: Outcome;
  /** Whether the process group was verified gone. */
  verified_gone: boolean;
  message: string;
}

/** After-ending intents a person can ask for while stopping a run. */
export interface StopIntent {
  requeue?: boolean;
  /** Skip `kill_grace`: SIGKILL at once. */
  now?: boolean;
  /** Archive the task once the run has ended. */
  archive?: boolean;
  /** Give the task to this profile as its run is released (a reassignment). */
  reassign?: string | null;
  /** The reason the task is blocked with (default: "stopped by NAME"). */
  reason?: string;
  kind?: BlockKind;
}

/** Where an ending stands (SPEC §3 "Ending a run is one function"). */
export interface Ending {
  outcome: Outcome;
  reason: RunReason;
  /**
   * `waiting_exit`: a worker reported its result and has a grace to exit by itself;
   * `start`: signal the group; `term`: SIGTERM sent; `kill`: SIGKILL sent; `held`: the group
   * would not die (`kill_failed`), retried every tick.
   */
  phase: 'waiting_exit' | 'start' | 'term' | 'kill' | 'held';
  deadline: number;
  graceMs: number;
  waiters: ((r: EndResult) => void)[];
}

/** One run this host supervises, with its progress kept in memory (SPEC §3). */
export interface LiveRun {
  runId: number;
  taskId: number;
  attempt: number;
  board: string;
  identity: ProcessIdentity;
  runDir: string;
  logPath: string;
  /** The shim, when this process started it; adopted runs have none. */
  child: ChildProcess | null;
  /** What the shim's own exit told us, for children of this process. */
  childExit: ExitStatus | null;
  clock: RunClock;
  policy: Policy;
  usedProtocol: boolean;
  outputBytes: number;
  progressCount: number;
  lastProgressWall: number | null;
  lastOutputWall: number | null;
  lastHeartbeatWall: number | null;
  lastNote: string | null;
  dirty: boolean;
  ending: Ending | null;
  /** Serialises the work done on this run. */
  queue: Promise<void>;
  /**
   * When the supervisor began to track it (a counter): a read of the store that began
   * earlier may not see its claim yet, so it is not taken to have ended elsewhere.
   */
  seq: number;
}

/** The liveness fields of a policy. */
export function livenessPolicy(p: Policy): LivenessPolicy {
  return {
    stall_warn_after: p.stall_warn_after,
    stall_timeout: p.stall_timeout,
    max_runtime: p.max_runtime,
  };
}

/** The name of signal number `n`, e.g. 9 → SIGKILL. */
export function signalName(n: number): string | null {
  for (const [name, value] of Object.entries(constants.signals)) if (value === n) return name;
  return null;
}

/** A shell-style status (above 128 means killed by signal status - 128) as an exit status. */
export function statusFromShell(code: number): ExitStatus {
  if (code > 128 && code <= 128 + 64) {
    const signal = signalName(code - 128);
    if (signal !== null) return { code: null, signal };
  }
  return { code, signal: null };
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
    return statSync(path).mtimeMs;
  } catch {
    return null;
  }
}

/** The last `bytes` bytes of a file as text (a partial first character is dropped). */
export function readTail(path: string, bytes = 4096): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return '';
  }
  try {
    const size = statSync(path).size;
    const length = Math.min(bytes, size);
    const buf = Buffer.alloc(length);
    readSync(fd, buf, 0, length, size - length);
    return buf.toString('utf8').replace(/^\uFFFD+/, '');
  } finally {
    closeSync(fd);
  }
}

/** A person's stop intent as it is kept on the run's reason (see `intentOf`). */
export function stopIntentExtra(intent: StopIntent): Record<string, string | boolean | null> {
  return {
    ...(intent.requeue ? { requeue: true } : {}),
    ...(intent.archive ? { archive: true } : {}),
    ...(intent.reassign !== undefined ? { reassign: intent.reassign } : {}),
    ...(intent.kind !== undefined ? { block_kind: intent.kind } : {}),
  };
}

/** The reason an ending records: the rule, the limits in force and the numbers behind it. */
export function runReason(
  live: LiveRun,
  host: string,
  rule: string,
  message: string,
  status: ExitStatus | null,
  nowMono: number,
): RunReason {
  return {
    rule,
    message,
    limits: {
      stall_warn_after: live.policy.stall_warn_after,
      stall_timeout: live.policy.stall_timeout,
      max_runtime: live.policy.max_runtime,
      kill_grace: live.policy.kill_grace,
    },
    last_heartbeat_at: live.lastHeartbeatWall,
    last_progress_at: live.lastProgressWall,
    last_output_at: live.lastOutputWall,
    alive: status === null,
    host,
    attempt: live.attempt,
    exit_code: status?.code ?? null,
    signal: status?.signal ?? null,
    extra: { pid: live.identity.pid, silent_ms: silentFor(live.clock, nowMono) },
  };
}

/**
 * What a worker's exit means: its shim's watcher killed it for the host's lapsed lease (the
 * host's loss), it vanished without a status, or its status read by the exit rules.
 */
export function exitMeaning(
  live: LiveRun,
  status: ExitStatus,
): { outcome: Outcome; rule: string; message: string } {
  if (existsSync(join(live.runDir, LEASE_KILLED))) {
    return {
      outcome: 'host_lost',
      rule: 'host_lease_lapsed',
      message:
        'frozen for host_ttl + 60 s while this host could not renew its lease, then killed by its shim',
    };
  }
  if (status.signal === 'unknown') {
    return {
      outcome: 'crashed',
      rule: 'vanished',
      message: 'the worker is gone and left no exit status (its shim was killed)',
    };
  }
  return interpretExit(status, live.policy.exit_zero, live.usedProtocol);
}
