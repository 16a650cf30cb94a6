import type { Card as CardData } from '../api.js';
import { ago, awaitsApproval, since, until } from '../format.js';
import { costText, delayCause, describeLlmState } from '../../core/describe.js';
import { formatTokens } from '../../core/llm.js';
import { holdsChildren } from '../../core/status.js';

interface Props {
  card: CardData;
  now: number;
  /** The status of a task on the board, to say what holds a waiting card. */
  statusOf: ReadonlyMap<number, string>;
  /** Paused profiles, to say a ready card of one will not start. */
  paused?: ReadonlySet<string> | undefined;
  onOpen: (id: number) => void;
}

/** Why a ready card will not start by itself: nobody is assigned, or its profile is paused. */
function stuck(card: CardData, paused: ReadonlySet<string> | undefined): string {
  if (card.status !== 'ready') return '';
  if (card.assignee === null) return 'nobody is assigned: edit it to give it a profile';
  if (paused?.has(card.assignee)) return `held: profile ${card.assignee} is paused`;
  return '';
}

/**
 * What holds a waiting card: `#8 (blocked)` for each parent still open; the status is left out
 * of a parent the page does not know.
 */
function heldBy(card: CardData, statusOf: ReadonlyMap<number, string>): string {
  if (card.status !== 'todo') return '';
  return card.parents
    .filter((p) => holdsChildren(statusOf.get(p) ?? '?'))
    .map((p) => {
      const s = statusOf.get(p);
      return s === undefined ? `#${p}` : `#${p} (${s})`;
    })
    .join(', ');
}

/**
 * One card: what a person needs at a glance, with badges for stalls, backoff, blocks and an
 * approval gate, the block's reason, and what holds a waiting card.
 */
export function Card({ card, now, statusOf, paused, onOpen }: Props) {
  const run = card.run;
  const activity = run ? describeLlmState(run.llm, now) : null;
  const waiting = card.status === 'ready' && card.not_before !== null && card.not_before > now;
  const held = heldBy(card, statusOf);
  const why = stuck(card, paused);
  return (
    <button
      class={`card ${run?.stall_warned_at ? 'stalled' : ''}`}
      draggable
      data-task={card.id}
      onDragStart={(e) => e.dataTransfer?.setData('text/plain', `${card.id}:${card.status}`)}
      onClick={() => onOpen(card.id)}
      aria-label={`task ${card.id}: ${card.title}`}
    >
      <div class="card-title">{card.title}</div>
      <div class="card-meta">
        <span>#{card.id}</span>
        {card.assignee && <span>@{card.assignee}</span>}
        {card.priority !== 0 && <span>p{card.priority}</span>}
        {(run?.attempt ?? card.counters.attempts) > 0 && (
          <span>attempt {run?.attempt ?? card.counters.attempts}</span>
        )}
        {card.llm.requests > 0 && (
          <span data-llm="usage" title={`${card.llm.requests} model requests over all runs`}>
            {formatTokens(card.llm.tokens)} tokens · {costText(card.llm)}
          </span>
        )}
      </div>
      {run && (
        <div class="card-run">
          <span title="time running">running {since(now, run.started_at)}</span>
          <span title="last heartbeat">heartbeat {ago(now, run.last_heartbeat_at)}</span>
          <span title="last progress">progress {ago(now, run.last_progress_at ?? null)}</span>
          {activity !== null && (
            <span class="llm-activity" data-llm="activity" title="the run's model traffic">
              {activity}
            </span>
          )}
        </div>
      )}
      <div class="badges">
        {run?.stall_warned_at && (
          <span class="badge warn" data-badge="stall">
            stall warning
          </span>
        )}
        {run?.state === 'ending' && <span class="badge">ending</span>}
        {waiting && (
          <span class="badge info" data-badge="waiting">
            {delayCause(card)}
            {card.counters.failures > 0 || card.counters.rate_limited_streak > 0
              ? 'retry'
              : 'waiting'}{' '}
            in {until(now, card.not_before ?? now)}
          </span>
        )}
        {card.status === 'blocked' && (
          <span class="badge danger" data-badge="blocked" title={card.block_reason ?? ''}>
            {card.block_rule === 'person' ||
            card.block_rule === null ||
            card.block_rule === card.block_kind
              ? ''
              : `${card.block_rule} · `}
            {card.block_kind ?? 'blocked'}
          </span>
        )}
        {awaitsApproval(card) && (
          <span class="badge warn" data-badge="approval">
            waiting for approval
          </span>
        )}
      </div>
      {card.status === 'blocked' && card.block_reason && (
        <div class="card-note danger" data-note="block">
          {card.block_reason}
        </div>
      )}
      {held && (
        <div class="card-note" data-note="held">
          held by {held}
        </div>
      )}
      {why && (
        <div class="card-note" data-note="stuck">
          {why}
        </div>
      )}
    </button>
  );
}
