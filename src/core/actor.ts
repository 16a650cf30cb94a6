import type { RunId, TaskId } from './glossary.js';

/**
 * Who acts. Every event records one; the transition table says which kinds may make
 * each move.
 */
export const ActorKind = {
  /** A person, known by the name of their token. */
  person: 'person',
  /** The worker of a run, acting on its own task. */
  worker: 'worker',
  /** The dispatcher and supervisor of a host. */
  dispatcher: 'dispatcher',
} as const;
export type ActorKind = (typeof ActorKind)[keyof typeof ActorKind];
export const ACTOR_KINDS: readonly ActorKind[] = Object.values(ActorKind);

export type Actor =
  | { readonly kind: 'person'; readonly name: string }
  | { readonly kind: 'worker'; readonly runId: RunId; readonly taskId: TaskId }
  | { readonly kind: 'dispatcher'; readonly host: string };

/** The actor as one short string, as stored on events: `person:ana`, `worker:run/12`. */
export function formatActor(actor: Actor): string {
  switch (actor.kind) {
    case 'person':
      return `person:${actor.name}`;
    case 'worker':
      return `worker:run/${actor.runId}`;
    case 'dispatcher':
      return `dispatcher:${actor.host}`;
  }
}

/** A person actor. */
export function person(name: string): Actor {
  return { kind: 'person', name };
}

/** The dispatcher of a host. */
export function dispatcher(host: string): Actor {
  return { kind: 'dispatcher', host };
}
