import { buildInbox } from '../core/inbox.js';
import type { Inbox } from '../core/inbox.js';
import type { Store } from './store.js';

/**
 * One board's attention inbox (issue #15), as `warden inbox`, `GET /api/v1/inbox` and the
 * dashboard show it: `not_found` for a board that does not exist.
 */
export async function readInbox(
  store: Store,
  board: string,
  limit: number,
  now: number = Date.now(),
): Promise<Inbox> {
  await store.getBoard(board);
  return buildInbox(board, await store.inboxFacts(board, limit), now);
}
