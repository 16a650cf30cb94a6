import type { ComponentChildren } from 'preact';
import type { BoardView, Card as CardData } from '../api.js';
import { Card } from './Card.js';

/** The columns, left to right. */
export const COLUMNS = ['triage', 'todo', 'ready', 'running', 'blocked', 'review', 'done'] as const;

interface Props {
  view: BoardView;
  extra: Record<string, CardData[]>;
  /** Statuses of parents that are not among the cards loaded. */
  offBoard: Record<number, string>;
  archived: boolean;
  now: number;
  onOpen: (id: number) => void;
  onDrop: (id: number, from: string, to: string) => void;
  /** More cards of a column, after its last one (`PRIORITY:ID`). */
  onMore: (status: string, after: string) => void;
  /** What a column shows under its header (the bulk actions), given its loaded cards. */
  tools?: (status: string, cards: CardData[]) => ComponentChildren;
  /** Profiles that are paused: their ready cards say nothing starts them. */
  pausedProfiles?: ReadonlySet<string>;
}

function lanes(cards: readonly CardData[]): [string, CardData[]][] {
  const byProfile = new Map<string, CardData[]>();
  for (const c of cards) {
    const key = c.run?.profile ?? c.assignee ?? '-';
    byProfile.set(key, [...(byProfile.get(key) ?? []), c]);
  }
  return [...byProfile.entries()].sort((a, b) => a[0].localeCompare(b[0]));
}

/** The board in columns; the running column in lanes by profile. */
export function Board({
  view,
  extra,
  offBoard,
  archived,
  now,
  onOpen,
  onDrop,
  onMore,
  tools,
  pausedProfiles,
}: Props) {
  const statuses = archived ? [...COLUMNS, 'archived'] : [...COLUMNS];
  const statusOf = new Map<number, string>(Object.entries(offBoard).map(([id, s]) => [+id, s]));
  for (const c of [...Object.values(view.columns), ...Object.values(extra)].flat())
    statusOf.set(c.id, c.status);
  const show = (c: CardData) => (
    <Card
      key={c.id}
      card={c}
      now={now}
      statusOf={statusOf}
      paused={pausedProfiles}
      onOpen={onOpen}
    />
  );
  return (
    <div class="board">
      {statuses.map((status) => {
        const cards = [...(view.columns[status] ?? []), ...(extra[status] ?? [])];
        const total = view.counts[status] ?? 0;
        return (
          <section
            key={status}
            class="column"
            data-column={status}
            aria-label={`${status}: ${total}`}
            onDragOver={(e) => e.preventDefault()}
            onDrop={(e) => {
              e.preventDefault();
              const [id, from] = (e.dataTransfer?.getData('text/plain') ?? '').split(':');
              if (id && from && from !== status) onDrop(Number(id), from, status);
            }}
          >
            <h2>
              {status} <span class="count">{total}</span>
            </h2>
            {/* Kept when the column empties: its tools show what they just did. */}
            {tools?.(status, cards)}
            {status === 'running'
              ? lanes(cards).map(([profile, laneCards]) => (
                  <div class="lane" key={profile} data-lane={profile}>
                    <h3>{profile}</h3>
                    {laneCards.map(show)}
                  </div>
                ))
              : cards.map(show)}
            {cards.length < total && (
              <button
                class="more"
                onClick={() => {
                  const last = cards[cards.length - 1];
                  if (last) onMore(status, `${last.priority}:${last.id}`);
                }}
              >
                show {Math.min(100, total - cards.length)} more of {total - cards.length}
              </button>
            )}
          </section>
        );
      })}
    </div>
  );
}
