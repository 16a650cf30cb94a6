/**
 * The end of a throughput run: the moment the store counts every task done. Counting reads
 * every task of the board, so the store is asked only once the workers' handlers have
 * returned for every task (then every millisecond): asked all along, as it was, the count
 * competed with the run for the database and grew with the board (on PostgreSQL, 1.7 ms a
 * count 76 times a second with 4,000 tasks).
 */
import type { Store } from '../../src/store/store.js';
import { waitFor } from './time.js';

export async function storeCounts(
  tasks: number,
  handled: () => number,
  store: Pick<Store, 'countTasks'>,
  timeoutMs = 600_000,
): Promise<void> {
  await waitFor('every task handled', () => (handled() >= tasks ? true : undefined), timeoutMs);
  await waitFor(
    `the store to count ${tasks} tasks done`,
    async () => ((await store.countTasks('default')).done ?? 0) >= tasks || undefined,
    30_000,
    1,
  );
}
