import { randomUUID } from 'node:crypto';

/**
 * A create call's own idempotency key, made once per call and sent on each of its retries: a
 * create whose answer was lost (serve killed just after its commit, PostgreSQL's answer to the
 * COMMIT lost, the network) is sent again, and the retry must return the task the first try
 * made, not make a second one for a second worker to run. A key the caller gave is kept.
 */
export function keyedCreate<T extends { idempotency_key?: string | undefined }>(input: T): T {
  return input.idempotency_key !== undefined
    ? input
    : { ...input, idempotency_key: `call:${randomUUID()}` };
}
