import { parseBulkFilter } from '../core/bulk.js';
import type { BulkResult, BulkVerb } from '../core/bulk.js';
import { illegalState } from '../core/errors.js';
import { bulkMove } from '../store/bulk.js';
import { withContext } from './context.js';
import { oneLine, say, sayJson, table } from './output.js';

/** The filter options of `retry`, `unblock` and `archive` (bulk when one is given). */
export interface BulkOptions {
  status?: string;
  assignee?: string;
  kind?: string;
  board?: string;
  yes?: boolean;
  json?: boolean;
}

const DONE_WORDS: Record<BulkVerb, string> = {
  retry: 'retried',
  unblock: 'unblocked',
  archive: 'archived',
};

function report(r: BulkResult): void {
  const n = (k: number): string => `${k} task${k === 1 ? '' : 's'}`;
  if (r.matched === 0) {
    say(`no task on board ${r.board} matches; nothing to ${r.verb}`);
    return;
  }
  const would = r.matched - r.refused;
  say(
    r.dry_run
      ? `dry run: would ${r.verb} ${n(would)} of ${r.matched} matching on board ${r.board}${r.refused > 0 ? ` (${r.refused} refused)` : ''}; nothing changed, add --yes to ${r.verb} them`
      : `${DONE_WORDS[r.verb]} ${n(r.changed)} of ${r.matched} matching on board ${r.board}${r.refused > 0 ? `; ${r.refused} refused` : ''}`,
  );
  say(
    table(
      ['ID', 'STATUS', 'KIND', 'ASSIGNEE', 'TITLE', 'RESULT'],
      r.tasks.map((t) => [
        String(t.id),
        t.status,
        t.block_kind ?? '-',
        t.assignee ?? '-',
        oneLine(t.title, 40),
        t.result === 'refused'
          ? `refused: ${t.reason ?? ''}`
          : `${t.result === 'changed' ? DONE_WORDS[r.verb] : `would ${r.verb}`} → ${t.to ?? ''}`,
      ]),
    ),
  );
}

/**
 * `warden retry|unblock|archive --status S --assignee P --kind K [--board B] [--yes]`: a dry run
 * that lists what it would change, unless `--yes`. Exits 4 with one line when some task was
 * refused, after the report.
 */
export async function runBulk(verb: BulkVerb, opts: BulkOptions): Promise<void> {
  const filter = parseBulkFilter(
    { board: opts.board, status: opts.status, assignee: opts.assignee, kind: opts.kind },
    '--',
  );
  const result = await withContext((ctx) =>
    bulkMove(ctx.store, verb, filter, { dryRun: opts.yes !== true }, ctx.actor),
  );
  if (opts.json) sayJson(result);
  else report(result);
  if (!result.dry_run && result.refused > 0) {
    throw illegalState(
      `${result.refused} of ${result.matched} tasks were refused (see the list); the others were ${DONE_WORDS[verb]}`,
    );
  }
}
