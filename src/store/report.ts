import { buildInbox } from '../core/inbox.js';
import type { EpochMs } from '../core/glossary.js';
import { NO_TOKENS } from '../core/llm.js';
import { buildReport } from '../core/report.js';
import type { Report } from '../core/report.js';
import type { Store } from './store.js';

/**
 * One board's morning report since a time, as `warden report` and `GET /api/v1/report` give
 * it: `not_found` for a board that does not exist.
 */
export async function readReport(
  store: Store,
  board: string,
  since: EpochMs,
  limit: number,
  now: EpochMs = Date.now(),
): Promise<Report> {
  await store.getBoard(board);
  const runs = await store.reportFacts(board, since, limit);
  const [spent] = await store.llmStats({ by: 'board', board, since });
  const waiting = buildInbox(board, await store.inboxFacts(board, 1), now).total;
  return buildReport(
    board,
    since,
    {
      ...runs,
      spent: {
        requests: spent?.requests ?? 0,
        tokens: spent?.tokens ?? NO_TOKENS,
        cost_usd: spent?.cost_usd ?? 0,
        unpriced: spent?.unpriced ?? 0,
      },
      waiting,
    },
    now,
  );
}
