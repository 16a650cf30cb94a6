import type { BlockKind, Outcome } from './status.js';
import type { EpochMs, RunId } from './glossary.js';
import type { Json } from './events.js';
import type { Task } from './task.js';
import type { RunRole } from './run.js';
import type { RunEvidence } from './worktree.js';

/**
 * The worker protocol's messages (SPEC §5), as workers, the SDK and the MCP server see them.
 * The store answers with these; the HTTP API carries them unchanged.
 */

/** A call a worker makes that ends its run. */
export type TerminalCall =
  /** `created`: the tasks it says it made, each checked to be one it created (issue #14). */
  | { op: 'complete'; summary: string; metadata?: Json; created?: number[] }
  | { op: 'fail'; reason: string }
  | { op: 'block'; reason: string; kind: BlockKind }
  | { op: 'request_review'; summary: string; metadata?: Json }
  /** A question for a person: the task is blocked `needs_input` until `warden answer`. */
  | { op: 'ask'; question: string }
  /** A review run's verdicts (issue #14): the work is done, or goes back with what to change. */
  | { op: 'approve'; summary: string }
  | { op: 'request_changes'; reason: string };

/** The answer to a terminal call; a repeat of the same call gets the same answer. */
export interface TerminalAnswer {
  run_id: RunId;
  task_id: number;
  attempt: number;
  op: TerminalCall['op'];
  outcome: Outcome;
  accepted_at: EpochMs;
}

/** How many lines of a previous attempt's output its worker context carries. */
export const PREVIOUS_ATTEMPT_LINES = 20;

/** The last `max` non-empty lines of a log tail, each cut to 500 characters. */
export function lastLines(tail: string | null, max = PREVIOUS_ATTEMPT_LINES): string[] {
  if (tail === null) return [];
  return tail
    .split('\n')
    .map((l) => l.replace(/\s+$/, ''))
    .filter((l) => l.trim() !== '')
    .slice(-max)
    .map((l) => (l.length > 500 ? `${l.slice(0, 500)}…` : l));
}

/** A worker's question and a person's answer (issue #14). */
export interface QuestionAnswer {
  question: string;
  asked_at: EpochMs;
  /** The run that asked. */
  run_id: RunId;
  answer: string | null;
  answered_by: string | null;
  answered_at: EpochMs | null;
}

/** A verdict on a task in review (issue #14). */
export interface ReviewNote {
  verdict: 'approved' | 'changes_requested';
  body: string;
  by: string;
  at: EpochMs;
  /** The run that was reviewed. */
  run_id: RunId | null;
}

/** What a worker sees of its task (SPEC §5 `show`). */
export interface WorkerContext {
  /** Its task's questions and their answers, newest first: the top of what it reads. */
  questions: QuestionAnswer[];
  /** Reviews of its earlier attempts, newest first: what to change comes before the task. */
  reviews: ReviewNote[];
  run: { id: RunId; attempt: number; state: string; started_at: EpochMs; role: RunRole };
  /**
   * For a review run (issue #14): the work it reviews, its worker's summary and what it left in
   * the worktree (the head it works at, the commits, the diffstat).
   */
  review_of?: { run_id: RunId; summary: string | null; evidence: RunEvidence | null };
  task: Task;
  parents: { id: number; title: string; status: string; result: Task['result'] }[];
  previous_attempts: {
    run_id: RunId;
    attempt: number;
    outcome: Outcome | null;
    reason: string | null;
    /** The worker's exit code, or null when it was killed by a signal or never exited. */
    exit_code: number | null;
    /** The signal that killed it, such as `SIGKILL`. */
    signal: string | null;
    /** The last lines of its output (at most `PREVIOUS_ATTEMPT_LINES`), oldest first. */
    last_lines: string[];
    started_at: EpochMs;
    ended_at: EpochMs | null;
  }[];
  comments: { actor: string; body: string; at: EpochMs }[];
}

/** A run a pull worker must give up, as the answer to its renewal says. */
export interface Cancellation {
  run_id: RunId;
  task_id: number;
  outcome: string;
  reason: string;
}

/**
 * What became of a result a pull claim carried (`reports`): the answer its worker route would
 * give, or why it was refused; `again` when `serve` itself failed on it and it should be sent
 * on its own.
 */
export type ReportOutcome =
  | { ok: true; answer: TerminalAnswer }
  | { ok: false; again?: true; error: { code: string; message: string } };

/** What a pull claim answers: the runs it took, and what became of the results it carried. */
export interface ClaimAnswer {
  claims: { run_id: number; attempt: number; token: string; context: WorkerContext }[];
  reports?: ReportOutcome[];
}
