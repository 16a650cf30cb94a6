import { backoffDelay } from './backoff.js';
import type { Random } from './backoff.js';
import { counted } from './counting.js';
import { formatDuration } from './duration.js';
import type { EpochMs, RunId } from './glossary.js';
import type { Policy } from './policy.js';
import type { BlockKind, Outcome } from './status.js';
import type { TaskCounters } from './task.js';

/** Why the system blocked a task: the rule behind it, kept on the task and its event. */
export const BlockRule = {
  person: 'person',
  worker: 'worker',
  /** The worker asked a question: `warden answer` clears it. */
  question: 'question',
  stopped: 'stopped',
  timed_out: 'timed_out',
  config_error: 'config_error',
  rate_limit_loop: 'rate_limit_loop',
  stall_loop: 'stall_loop',
  gave_up: 'gave_up',
  spawn_failed: 'spawn_failed',
  host_losses: 'host_losses',
  /** A budget of its profile was spent (issue #13). */
  budget: 'budget',
  /** Changes were requested of its reviews `max_review_rounds` times (issue #14). */
  review_rounds: 'review_rounds',
} as const;
export type BlockRule = (typeof BlockRule)[keyof typeof BlockRule];

/** Outcomes that count as the task failing (SPEC §3 "Retry and breakers"). */
export const FAILURE_OUTCOMES: readonly Outcome[] = [
  'crashed',
  'stalled',
  'host_lost',
  'lease_lost',
  'spawn_failed',
];

/** Outcomes of a silent run that feed the stall loop when the run made no progress. */
const SILENT_OUTCOMES: readonly Outcome[] = ['stalled', 'lease_lost'];

/** How one run ended, as the accounting needs it. */
export interface RunEnding {
  runId: RunId;
  outcome: Outcome;
  /** Whether the run showed any progress: output, `progress` calls, model activity. */
  madeProgress: boolean;
  /** The reason in words (the crash, the spawn error, the worker's block reason). */
  message: string;
  /** For `worker_blocked`: the kind the worker gave. */
  blockKind?: BlockKind;
  /** For `worker_blocked`: the worker asked a question (`warden answer` clears it). */
  asked?: boolean;
  /** The run reviewed the task's work (a reviewer profile's run, issue #14). */
  review?: boolean;
  /** For `stopped`: put the task back in line instead of blocking it. */
  requeue?: boolean;
  /** For a failure: the worker's last line of output, so a block says why in its words. */
  lastOutput?: string;
}

/** `; last output: "..."` when the worker left a line, so a block reason says why. */
function evidence(ending: RunEnding): string {
  return ending.lastOutput === undefined ? '' : `; last output: "${ending.lastOutput}"`;
}

/** What happens to the task after a run ended. */
export interface Decision {
  verb: 'complete' | 'request_review' | 'requeue' | 'block';
  counters: TaskCounters;
  /** For `requeue`: not before this time (backoff or cooldown); null: at once. */
  notBefore: EpochMs | null;
  /** For `block`: the rule, the kind and the reason a person reads. */
  rule: BlockRule | null;
  kind: BlockKind | null;
  message: string;
  /** Whether this run counts against its profile's breaker. */
  failure: boolean;
  /** For `rate_limited`: the cooldown also holds the task's concurrency group. */
  groupNotBefore: EpochMs | null;
}

/** The inputs of the accounting. */
export interface AccountingInput {
  ending: RunEnding;
  counters: TaskCounters;
  policy: Policy;
  now: EpochMs;
  random: Random;
  /** Ids of this task's latest runs, newest first (this run included), to name them. */
  recentRunIds: readonly RunId[];
}

/** A block the system makes is `failed` (warden gave up) unless it says otherwise. */
function blocked(
  counters: TaskCounters,
  rule: BlockRule,
  message: string,
  failure: boolean,
  kind: BlockKind = 'failed',
): Decision {
  return {
    verb: 'block',
    counters,
    notBefore: null,
    rule,
    kind,
    message,
    failure,
    groupNotBefore: null,
  };
}

/**
 * The one accounting function for every outcome (SPEC §3): counters only go up here, and
 * every loop (failures, silence, rate limits, spawn errors, host losses) stops at its limit
 * with a rule and a reason a person can read. Only a person resets the failure count.
 */
export function accountRun(input: AccountingInput): Decision {
  const { ending, policy, now, random } = input;
  const c: TaskCounters = { ...input.counters };
  const silent = SILENT_OUTCOMES.includes(ending.outcome) && !ending.madeProgress;
  c.stall_streak = ending.madeProgress ? 0 : silent ? c.stall_streak + 1 : c.stall_streak;
  const done = (verb: 'complete' | 'request_review'): Decision => ({
    verb,
    counters: { ...c, stall_streak: 0, rate_limited_streak: 0, spawn_failures: 0 },
    notBefore: null,
    rule: null,
    kind: null,
    message: ending.message,
    failure: false,
    groupNotBefore: null,
  });

  if (ending.review) return accountReview(ending, c, done);
  switch (ending.outcome) {
    case 'completed':
      return done('complete');
    case 'review_approved':
    case 'changes_requested':
      // Only review runs report these (the store refuses them elsewhere).
      return done('complete');
    case 'review_requested':
      return done('request_review');
    case 'worker_blocked': {
      const kind = ending.blockKind ?? 'needs_input';
      const rule = ending.asked === true ? BlockRule.question : BlockRule.worker;
      const decision = blocked(c, rule, ending.message, false, kind);
      // A transient block clears itself after its cooldown (src/store/sql/transient.ts).
      return kind === 'transient'
        ? { ...decision, notBefore: now + policy.transient_cooldown }
        : decision;
    }
    case 'stopped':
      if (ending.requeue) {
        return {
          ...blocked(c, BlockRule.stopped, ending.message, false),
          verb: 'requeue',
          rule: null,
          kind: null,
        };
      }
      return blocked(
        c,
        BlockRule.stopped,
        ending.message,
        false,
        ending.blockKind ?? 'needs_input',
      );
    case 'timed_out':
      return blocked(
        c,
        BlockRule.timed_out,
        `timed_out: ran past max_runtime ${formatDuration(policy.max_runtime)}; a second attempt rarely does better`,
        false,
      );
    case 'config_error':
      // Not retried, but a profile whose every run says "bad config" should trip its breaker.
      return blocked(
        c,
        BlockRule.config_error,
        `config_error: ${ending.message}${evidence(ending)}`,
        true,
      );
    case 'budget_exhausted':
      // Paused to ask a person, not failed: raising the budget and unblocking resumes it.
      return blocked(c, BlockRule.budget, `budget spent: ${ending.message}`, false, 'budget');
    case 'rate_limited': {
      c.rate_limited_streak += 1;
      if (c.rate_limited_streak >= policy.max_rate_limited) {
        return blocked(
          c,
          BlockRule.rate_limit_loop,
          `rate_limit_loop: rate limited ${c.rate_limited_streak} times in a row (max_rate_limited ${policy.max_rate_limited})`,
          false,
        );
      }
      const at =
        now +
        backoffDelay(
          c.rate_limited_streak,
          policy.rate_limit_cooldown,
          policy.rate_limit_cooldown_max,
          random,
        );
      return {
        verb: 'requeue',
        counters: c,
        notBefore: at,
        rule: null,
        kind: null,
        message: `rate limited; cooling down until ${new Date(at).toISOString()}`,
        failure: false,
        groupNotBefore: at,
      };
    }
    case 'crashed':
    case 'stalled':
    case 'host_lost':
    case 'lease_lost':
    case 'spawn_failed':
      return accountFailure(input, c);
  }
}

/**
 * A review run's ending (issue #14): approved, the task is done (with its worker's result);
 * changes requested, it goes back in line with the review; any other ending leaves the review
 * to a person. Counters are the work's: a reviewer's crash is not the task failing.
 */
function accountReview(
  ending: RunEnding,
  c: TaskCounters,
  done: (verb: 'complete' | 'request_review') => Decision,
): Decision {
  if (ending.outcome === 'review_approved') return done('complete');
  if (ending.outcome === 'changes_requested') {
    return {
      ...done('complete'),
      verb: 'requeue',
      message: `changes requested: ${ending.message}`,
    };
  }
  return {
    ...done('request_review'),
    counters: c,
    message: `review_without_verdict: the review run ended ${ending.outcome} (${ending.message}); review it yourself`,
  };
}

function accountFailure(input: AccountingInput, c: TaskCounters): Decision {
  const { ending, policy, now, random } = input;
  if (c.stall_streak >= policy.stall_loop_limit) {
    const runs = input.recentRunIds.slice(0, c.stall_streak).reverse().join(', ');
    return blocked(
      c,
      BlockRule.stall_loop,
      `stall_loop: ${c.stall_streak} runs in a row made no progress (runs ${runs}; stall_loop_limit ${policy.stall_loop_limit}, stall_timeout ${formatDuration(policy.stall_timeout)})`,
      true,
    );
  }
  if (ending.outcome === 'host_lost') {
    c.host_losses += 1;
    if (c.host_losses >= policy.max_host_losses) {
      return blocked(
        c,
        BlockRule.host_losses,
        `host_losses: lost with its host ${c.host_losses} times (max_host_losses ${policy.max_host_losses})`,
        false,
      );
    }
  } else {
    c.failures += 1;
  }
  if (ending.outcome === 'spawn_failed') {
    c.spawn_failures += 1;
    if (c.spawn_failures >= policy.max_spawn_failures) {
      return blocked(
        c,
        BlockRule.spawn_failed,
        `spawn_failed: the worker could not be started ${c.spawn_failures} times in a row (max_spawn_failures ${policy.max_spawn_failures}): ${ending.message}`,
        true,
      );
    }
  } else {
    c.spawn_failures = 0;
  }
  if (ending.outcome !== 'host_lost' && c.failures >= policy.max_failures) {
    return blocked(
      c,
      BlockRule.gave_up,
      `gave_up: ${counted(c.failures, 'failed run')} (max_failures ${policy.max_failures}); last: ${ending.outcome} — ${ending.message}${evidence(ending)}`,
      true,
    );
  }
  const n = ending.outcome === 'host_lost' ? c.host_losses : c.failures;
  const at = now + backoffDelay(n, policy.backoff_base, policy.backoff_max, random);
  return {
    verb: 'requeue',
    counters: c,
    notBefore: at,
    rule: null,
    kind: null,
    message: `${ending.outcome}: ${ending.message}; retry after ${formatDuration(at - now)}`,
    // A lost host is rarely the profile's fault either.
    failure: ending.outcome !== 'host_lost',
    groupNotBefore: null,
  };
}
