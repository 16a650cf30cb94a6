/**
 * # warden glossary
 *
 * These nouns are used the same way in tables, types, CLI verbs, HTTP routes and docs
 * (SPEC.md §2).
 *
 * - **board**: a named set of tasks. Every call names its board or uses `default`; there
 *   is no mutable "current board".
 * - **task**: a card on a board: title, body, assignee (a profile), priority, parents,
 *   status, `not_before`, counters and a result (summary + metadata).
 * - **status**: where a task stands: `triage`, `todo`, `ready`, `running`, `review`,
 *   `blocked`, `done`, `archived`. A delay is `ready` with `not_before` in the future.
 * - **profile**: how to run a worker: argv, env, cwd policy, concurrency cap and group,
 *   timeouts and retry policy. Stored and versioned in the store.
 * - **run**: one attempt at a task (`running → ending → ended`), with a per-task
 *   increasing `attempt` number that is the fencing epoch, a secret run token, process
 *   identity, progress counters, an outcome and a structured reason.
 * - **process identity**: boot id + pid + process start time.
 * - **host**: one machine running `warden serve`.
 * - **event**: an append-only, typed record of everything that happened, with its actor.
 * - **workspace**: a directory per task under the warden home, kept across attempts.
 * - **actor**: who did something: a person (named token), the worker of a run, or the
 *   dispatcher of a host.
 */

/** A task id: a positive integer, unique across all boards of one store. */
export type TaskId = number;
/** A run id: a positive integer, unique across the store. */
export type RunId = number;
/** An event id: increasing in the order events were written. */
export type EventId = number;
/** Milliseconds since the Unix epoch, from the injected wall clock. */
export type EpochMs = number;
/** A length of time in milliseconds. */
export type Millis = number;

/** The board every call uses when it names none. */
export const DEFAULT_BOARD = 'default';
