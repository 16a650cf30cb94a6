import { useState } from 'preact/hooks';
import { api } from '../api.js';
import type { Card } from '../api.js';
import type { BulkItem, BulkResult, BulkVerb } from '../../core/bulk.js';

interface Props {
  board: string;
  /** `blocked` (Retry all, Unblock all) or `done` (Archive all). */
  status: 'blocked' | 'done';
  /** The column's loaded cards, for the block kinds offered in the select. */
  cards: readonly Card[];
  /** The board changed: load it again. */
  onChanged: () => void;
}

const LABEL: Record<BulkVerb, string> = {
  retry: 'Retry all',
  unblock: 'Unblock all',
  archive: 'Archive all',
};
const PAST: Record<BulkVerb, string> = {
  retry: 'retried',
  unblock: 'unblocked',
  archive: 'archived',
};

/** One task of a dry run or of the action itself, in words. */
function itemLine(verb: BulkVerb, t: BulkItem): string {
  const what = `#${t.id} ${t.title}${t.block_kind ? ` (${t.block_kind})` : ''}`;
  if (t.result === 'refused') return `${what}: refused: ${t.reason ?? ''}`;
  return `${what}: ${t.result === 'changed' ? PAST[verb] : `would ${verb}`} → ${t.to ?? ''}`;
}

/**
 * Bulk actions on a column (issue #14): the verb first as a dry run (`POST /api/v1/tasks/bulk`
 * with `dry_run: true`), whose list is shown to confirm; then the same filter for real, with
 * each task's result and the server's words for each refusal.
 */
export function BulkBar({ board, status, cards, onChanged }: Props) {
  const [kind, setKind] = useState('');
  const [result, setResult] = useState<BulkResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // The ids the confirmed dry run listed, to mark any task that matched only since then.
  const [plan, setPlan] = useState<Set<number> | null>(null);
  const kinds = [
    ...new Set(cards.map((c) => c.block_kind).filter((k): k is NonNullable<typeof k> => !!k)),
  ].sort();
  const verbs: BulkVerb[] = status === 'blocked' ? ['retry', 'unblock'] : ['archive'];
  const filterKind = status === 'blocked' && kinds.includes(kind as never) ? kind : '';

  const run = async (verb: BulkVerb, dryRun: boolean): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      if (!dryRun && result) setPlan(new Set(result.tasks.map((t) => t.id)));
      const r = await api.bulk(board, verb, status, filterKind, dryRun);
      setResult(r);
      if (!dryRun) onChanged();
    } catch (err) {
      setResult(null);
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  const planned = result?.dry_run ? result.tasks.filter((t) => t.result === 'would_change') : [];
  // An empty column offers nothing, but still shows what was just done to it.
  if (cards.length === 0 && result === null && error === null) return null;
  return (
    <div class="bulk" data-bulk={status}>
      <div class="bulk-bar">
        {status === 'blocked' && kinds.length > 0 && (
          <select
            aria-label="block kind"
            value={filterKind}
            onChange={(e) => setKind(e.currentTarget.value)}
          >
            <option value="">any kind</option>
            {kinds.map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
        )}
        {verbs.map((verb) => (
          <button
            key={verb}
            data-bulk-verb={verb}
            disabled={busy}
            onClick={() => void run(verb, true)}
          >
            {LABEL[verb]}
          </button>
        ))}
      </div>
      {error && (
        <p class="bulk-error" role="alert" data-bulk-error>
          {error}
        </p>
      )}
      {result && (
        <div
          class="bulk-panel"
          role="dialog"
          aria-label={`${result.verb} ${status} tasks`}
          data-bulk-panel={result.dry_run ? 'dry-run' : 'done'}
        >
          <p>
            {result.dry_run
              ? `${LABEL[result.verb].replace(' all', '')} ${planned.length} of ${result.matched} matching${filterKind ? ` (${filterKind})` : ''}? Nothing is changed yet.`
              : `${PAST[result.verb]} ${result.changed} of ${result.matched}${result.refused > 0 ? `; ${result.refused} refused` : ''}`}
          </p>
          <ul>
            {result.tasks.map((t) => (
              <li key={t.id} data-bulk-item={t.id} data-result={t.result}>
                {itemLine(result.verb, t)}
                {!result.dry_run && plan && !plan.has(t.id) ? ' (matched since the dry run)' : ''}
              </li>
            ))}
          </ul>
          <div class="bulk-bar">
            {result.dry_run && planned.length > 0 && (
              <button
                class="primary"
                data-action="bulk-confirm"
                disabled={busy}
                onClick={() => void run(result.verb, false)}
              >
                {LABEL[result.verb].replace(' all', '')} {planned.length}
              </button>
            )}
            <button data-action="bulk-close" onClick={() => setResult(null)}>
              {result.dry_run ? 'Cancel' : 'Close'}
            </button>
          </div>
        </div>
      )}
    </div>
  );
}
