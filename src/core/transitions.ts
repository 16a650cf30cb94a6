import type { ActorKind } from './actor.js';
import { illegalState } from './errors.js';
import { TaskStatus } from './status.js';

/** The verbs that move a task from one status to another. */
export const Verb = {
  /** A person accepts a triaged task onto the board. */
  accept: 'accept',
  /** Every parent is done: `todo` → `ready`. */
  promote: 'promote',
  /** A parent that is not done was linked: `ready` → `todo`. */
  demote: 'demote',
  /** The dispatcher starts a run. */
  claim: 'claim',
  /** The run finished the work. */
  complete: 'complete',
  /** The run ended without finishing; the task goes back in line. */
  requeue: 'requeue',
  block: 'block',
  unblock: 'unblock',
  /** A person asks for the task to be tried again, clearing counters and delays. */
  retry: 'retry',
  /** The worker hands its result to a person for review. */
  request_review: 'request_review',
  /** A person sends a reviewed task back for more work. */
  reopen: 'reopen',
  /** A person marks the task done (approving a review, or work done outside warden). */
  done: 'done',
  archive: 'archive',
} as const;
export type Verb = (typeof Verb)[keyof typeof Verb];

/** How each verb reads in a sentence ("cannot mark done a task that is done"). */
const VERB_WORDS: Record<Verb, string> = {
  accept: 'accept',
  promote: 'promote',
  demote: 'demote',
  claim: 'claim',
  complete: 'complete',
  requeue: 'requeue',
  block: 'block',
  unblock: 'unblock',
  retry: 'retry',
  request_review: 'request review of',
  reopen: 'reopen',
  done: 'mark done',
  archive: 'archive',
};

/** One allowed move: a verb takes a task from `from` to `to`, made by one of `actors`. */
export interface TransitionRow {
  readonly verb: Verb;
  readonly from: TaskStatus;
  readonly to: TaskStatus;
  readonly actors: readonly ActorKind[];
}

const { triage, todo, ready, running, review, blocked, done, archived } = TaskStatus;
const P = 'person';
const W = 'worker';
const D = 'dispatcher';

function rows(
  verb: Verb,
  from: readonly TaskStatus[],
  to: readonly TaskStatus[],
  actors: readonly ActorKind[],
): TransitionRow[] {
  return from.flatMap((f) => to.map((t) => ({ verb, from: f, to: t, actors })));
}

/**
 * The one transition table (SPEC §2). A move not listed here is refused. Where a verb
 * lists both `todo` and `ready` as targets, the task's parents decide: `ready` when every
 * parent is done, else `todo`. A task leaves `running` only once its run has ended; the
 * supervisor enforces that before it asks for any `running` row.
 */
export const TRANSITIONS: readonly TransitionRow[] = [
  ...rows(Verb.accept, [triage], [todo, ready], [P]),
  // Promotion and demotion are consequences of another act, so whoever acted causes them.
  ...rows(Verb.promote, [todo], [ready], [P, W, D]),
  ...rows(Verb.demote, [ready], [todo], [P, W]),
  // A task in review is claimed by its reviewer profile's run (issue #14).
  ...rows(Verb.claim, [ready, review], [running], [D]),
  ...rows(Verb.complete, [running], [done], [W, D]),
  ...rows(Verb.requeue, [running], [todo, ready], [D, P]),
  ...rows(Verb.block, [running], [blocked], [P, W, D]),
  ...rows(Verb.block, [triage, todo, ready, review], [blocked], [P]),
  // A review run that ended without a verdict leaves the review to a person (issue #14).
  ...rows(Verb.request_review, [running], [review], [W, D]),
  // The dispatcher clears a `transient` block once its cooldown has passed (issue #14).
  ...rows(Verb.unblock, [blocked], [todo, ready], [P, D]),
  ...rows(Verb.retry, [blocked, done], [todo, ready], [P]),
  ...rows(Verb.reopen, [review], [todo, ready], [P]),
  ...rows(Verb.done, [triage, todo, ready, review, blocked], [done], [P]),
  ...rows(Verb.archive, [triage, todo, ready, running, review, blocked, done], [archived], [P]),
];

/** The row that allows `verb` from `from` to `to` by `actor`, if there is one. */
export function findTransition(
  verb: Verb,
  from: TaskStatus,
  to: TaskStatus,
  actor: ActorKind,
): TransitionRow | undefined {
  return TRANSITIONS.find(
    (r) => r.verb === verb && r.from === from && r.to === to && r.actors.includes(actor),
  );
}

/** Whether any verb may move a task from `from` to `to` for `actor`. */
export function isAllowed(from: TaskStatus, to: TaskStatus, actor: ActorKind): boolean {
  return TRANSITIONS.some((r) => r.from === from && r.to === to && r.actors.includes(actor));
}

/**
 * Where `verb` takes a task now in `from`, or an `illegal_state` error naming what is
 * allowed instead. `parentsDone` picks between `ready` and `todo` for verbs that allow both.
 */
export function resolveTransition(
  verb: Verb,
  from: TaskStatus,
  actor: ActorKind,
  parentsDone: boolean,
): TaskStatus {
  const candidates = TRANSITIONS.filter(
    (r) => r.verb === verb && r.from === from && r.actors.includes(actor),
  );
  if (candidates.length === 0) {
    const fromHere = TRANSITIONS.filter((r) => r.verb === verb && r.actors.includes(actor));
    const allowedFrom = [...new Set(fromHere.map((r) => r.from))];
    const words = VERB_WORDS[verb];
    throw illegalState(
      `cannot ${words} a task that is ${from}` +
        (allowedFrom.length > 0
          ? `; ${verb.replace('_', ' ')} applies to tasks that are ${allowedFrom.join(', ')}`
          : `; a ${actor} may not ${words} tasks`),
      { verb, from, actor },
    );
  }
  const targets = candidates.map((r) => r.to);
  if (targets.length === 1) return targets[0] as TaskStatus;
  return parentsDone ? ready : todo;
}
