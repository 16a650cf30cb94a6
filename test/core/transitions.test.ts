import { describe, expect, it } from 'vitest';
import { ACTOR_KINDS } from '../../src/core/actor.js';
import type { ActorKind } from '../../src/core/actor.js';
import { WardenError } from '../../src/core/errors.js';
import { TASK_STATUSES } from '../../src/core/status.js';
import type { TaskStatus } from '../../src/core/status.js';
import {
  TRANSITIONS,
  Verb,
  findTransition,
  isAllowed,
  resolveTransition,
} from '../../src/core/transitions.js';

// The expected table, written out by hand and independently of the code: `from>to` lists
// the actors allowed (p = person, w = worker of the task, d = dispatcher). Every pair not
// listed must be refused for every actor.
const EXPECTED: Record<string, string> = {
  'triage>todo': 'p',
  'triage>ready': 'p',
  'triage>blocked': 'p',
  'triage>done': 'p',
  'triage>archived': 'p',
  'todo>ready': 'pwd',
  'todo>blocked': 'p',
  'todo>done': 'p',
  'todo>archived': 'p',
  'ready>todo': 'pw',
  'ready>running': 'd',
  'ready>blocked': 'p',
  'ready>done': 'p',
  'ready>archived': 'p',
  'running>done': 'wd',
  'running>todo': 'dp',
  'running>ready': 'dp',
  'running>blocked': 'pwd',
  // A review run that ends without a verdict leaves the review to a person (issue #14).
  'running>review': 'wd',
  'running>archived': 'p',
  // A reviewer profile's run claims a task in review (issue #14).
  'review>running': 'd',
  'review>todo': 'p',
  'review>ready': 'p',
  'review>blocked': 'p',
  'review>done': 'p',
  'review>archived': 'p',
  // The dispatcher clears a transient block once its cooldown passed (issue #14).
  'blocked>todo': 'pd',
  'blocked>ready': 'pd',
  'blocked>done': 'p',
  'blocked>archived': 'p',
  'done>todo': 'p',
  'done>ready': 'p',
  'done>archived': 'p',
};

const LETTER: Record<ActorKind, string> = { person: 'p', worker: 'w', dispatcher: 'd' };

describe('the transition table', () => {
  const cases: [TaskStatus, TaskStatus, ActorKind][] = [];
  for (const from of TASK_STATUSES) {
    for (const to of TASK_STATUSES) for (const actor of ACTOR_KINDS) cases.push([from, to, actor]);
  }

  it.each(cases)('%s → %s by %s is allowed exactly when the table says so', (from, to, actor) => {
    const expected = (EXPECTED[`${from}>${to}`] ?? '').includes(LETTER[actor]);
    expect(isAllowed(from, to, actor)).toBe(expected);
  });

  it('has no transition out of archived and none from a status to itself', () => {
    for (const row of TRANSITIONS) {
      expect(row.from).not.toBe('archived');
      expect(row.from).not.toBe(row.to);
    }
  });

  it('lets only the dispatcher start a run: of ready work, or a review run of work in review', () => {
    const into = TRANSITIONS.filter((r) => r.to === 'running');
    expect(into.map((r) => [r.from, r.actors])).toEqual([
      ['ready', ['dispatcher']],
      ['review', ['dispatcher']],
    ]);
  });
});

describe('resolveTransition', () => {
  const verbs = Object.values(Verb);

  it.each(
    verbs.flatMap((verb) =>
      TASK_STATUSES.flatMap((from) => ACTOR_KINDS.map((actor) => [verb, from, actor] as const)),
    ),
  )('%s from %s by %s either follows a row or is refused as illegal_state', (verb, from, actor) => {
    const rows = TRANSITIONS.filter(
      (r) => r.verb === verb && r.from === from && r.actors.includes(actor),
    );
    if (rows.length === 0) {
      expect(() => resolveTransition(verb, from, actor, true)).toThrow(WardenError);
      try {
        resolveTransition(verb, from, actor, true);
      } catch (err) {
        expect((err as WardenError).code).toBe('illegal_state');
        expect((err as WardenError).exitCode).toBe(4);
      }
      return;
    }
    for (const parentsDone of [true, false]) {
      const to = resolveTransition(verb, from, actor, parentsDone);
      expect(findTransition(verb, from, to, actor)).toBeDefined();
    }
  });

  it('picks ready when every parent is done and todo otherwise', () => {
    expect(resolveTransition('unblock', 'blocked', 'person', true)).toBe('ready');
    expect(resolveTransition('unblock', 'blocked', 'person', false)).toBe('todo');
    expect(resolveTransition('requeue', 'running', 'dispatcher', false)).toBe('todo');
    expect(resolveTransition('retry', 'done', 'person', true)).toBe('ready');
  });

  it('names what the verb applies to when it refuses', () => {
    expect(() => resolveTransition('unblock', 'done', 'person', true)).toThrow(
      'cannot unblock a task that is done; unblock applies to tasks that are blocked',
    );
    expect(() => resolveTransition('claim', 'ready', 'person', true)).toThrow(
      /a person may not claim tasks/,
    );
  });
});
