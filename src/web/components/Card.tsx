import type { Card as CardData } from '../api.js';
import { ago, since, until } from '../format.js';
import { costText, describeLlmState } from '../../core/describe.js';
import { formatTokens } from '../../core/llm.js';

interface Props {
  card: CardData;
  now: number;
  onOpen: (id: number) => void;
}

/** One card: what a person needs at a glance, with badges for stalls, backoff and blocks. */
export function Card({ card, now, onOpen }: Props) {
  const run = card.run;
  const activity = run ? describeLlmState(run.llm, now) : null;
  const waiting = card.status === 'ready' && card.not_before !== null && card.not_before > now;
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
            {card.counters.failures > 0 || card.counters.rate_limited_streak > 0
              ? 'retry'
              : 'waiting'}{' '}
            in {until(now, card.not_before ?? now)}
          </span>
        )}
        {card.status === 'blocked' && (
          <span class="badge danger" data-badge="blocked" title={card.block_reason ?? ''}>
            {card.block_rule === 'person' || card.block_rule === null
              ? ''
              : `${card.block_rule} · `}
            {card.block_kind ?? 'blocked'}
          </span>
        )}
      </div>
    </button>
  );
}
