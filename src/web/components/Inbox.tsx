import { useEffect, useLayoutEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import type { Inbox as InboxView } from '../../core/inbox.js';
import { ago } from '../format.js';

/** Items the panel shows; the rest are counted and left to `warden inbox`. */
const SHOWN = 50;

interface Props {
  board: string;
  /** Loaded again at each change of it; null until the page's first load. */
  version: number | null;
  now: number;
  onOpen: (taskId: number) => void;
  onError: (err: unknown) => void;
}

/**
 * The attention inbox (issue #15) at the top of the page: what waits for a person, newest
 * first, each with the command that clears it and, for a task, a button that opens its drawer
 * (where the reply, approve, retry or unblock is). Its count leads the page's title.
 */
export function Inbox({ board, version, now, onOpen, onError }: Props) {
  const [inbox, setInbox] = useState<InboxView | null>(null);
  useEffect(() => {
    if (version !== null) api.inbox(board, SHOWN).then(setInbox, onError);
  }, [board, version, onError]);
  const total = inbox?.total ?? 0;
  // Set in the same commit as the panel, so the title never shows a count the page does not.
  useLayoutEffect(() => {
    document.title = total > 0 ? `(${total}) warden · ${board}` : `warden · ${board}`;
  }, [total, board]);
  if (!inbox || total === 0) return null;
  const hidden = total - inbox.items.length;
  return (
    <section class="inbox" aria-label="inbox" data-inbox={total}>
      <h2>
        Waiting for you <span class="count">{total}</span>
      </h2>
      <ul>
        {inbox.items.map((i) => (
          <li
            key={`${i.kind}-${i.task_id ?? ''}-${i.profile ?? ''}-${i.host ?? ''}-${i.run_id ?? ''}`}
            data-inbox-item={i.kind}
            data-inbox-task={i.task_id ?? undefined}
          >
            <span class={`inbox-kind kind-${i.kind}`}>{i.kind.replace('_', ' ')}</span>
            <span class="inbox-text">{i.text}</span>
            <span class="muted inbox-since">{ago(now, i.since)}</span>
            <code class="inbox-command" title="the command that clears it">
              {i.command}
            </code>
            {i.task_id !== null && (
              <button
                class="inbox-open"
                data-inbox-open={i.task_id}
                onClick={() => i.task_id !== null && onOpen(i.task_id)}
              >
                Open #{i.task_id}
              </button>
            )}
          </li>
        ))}
      </ul>
      {hidden > 0 && (
        <p class="muted">
          {inbox.items.length} of {total} shown; `warden inbox` lists them all
        </p>
      )}
    </section>
  );
}
