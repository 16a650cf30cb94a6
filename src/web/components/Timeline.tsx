import { useEffect, useState } from 'preact/hooks';
import { formatDuration } from '../../core/duration.js';
import type { Run } from '../../core/run.js';
import type { RunTimeline, TimelineItem, TimelineKind } from '../../core/timeline.js';
import { api } from '../api.js';

interface Props {
  runs: Run[];
  version: number;
}

/** The lanes of the axis, top to bottom; the moments of the ending share the last. */
const LANES: { name: string; kinds: TimelineKind[] }[] = [
  { name: 'output', kinds: ['output'] },
  { name: 'progress', kinds: ['progress'] },
  { name: 'model', kinds: ['model'] },
  { name: 'commits', kinds: ['commit'] },
  { name: 'run', kinds: ['start', 'stall_warning', 'ending', 'signal', 'end', 'other'] },
];

/** Where on the axis a time falls, as a percentage of its width. */
function place(t: RunTimeline, at: number): number {
  const width = Math.max(1, t.to - t.from);
  return Math.min(100, Math.max(0, ((at - t.from) / width) * 100));
}

function Mark({ t, item }: { t: RunTimeline; item: TimelineItem }) {
  const left = place(t, item.at);
  const span = item.until !== null && item.until > item.at;
  const width = span ? Math.max(0.6, place(t, item.until ?? item.at) - left) : 0;
  const title = `+${formatDuration(item.at - t.from)} ${item.text}`;
  return (
    <span
      class={`mark ${item.kind}${span ? ' span' : ''}`}
      data-kind={item.kind}
      title={title}
      style={span ? { left: `${left}%`, width: `${width}%` } : { left: `${left}%` }}
    />
  );
}

/**
 * A run's timeline in the drawer (issue #15): its output, progress calls, model requests,
 * commits and its warnings, signals and ending in lanes on one axis, the why line above and
 * every item in words below; the newest run unless another attempt is picked.
 */
export function Timeline({ runs, version }: Props) {
  const [picked, setPicked] = useState<number | null>(null);
  const [timeline, setTimeline] = useState<RunTimeline | null>(null);
  const [error, setError] = useState<string | null>(null);
  const runId = picked ?? runs.at(-1)?.id ?? null;
  useEffect(() => {
    if (runId === null) return;
    let stop = false;
    api
      .timeline(runId)
      .then((t) => {
        if (!stop) {
          setTimeline(t);
          setError(null);
        }
      })
      .catch((err: unknown) => {
        if (!stop) setError(err instanceof Error ? err.message : String(err));
      });
    return () => {
      stop = true;
    };
  }, [runId, version]);
  if (runId === null) return null;
  const t = timeline?.run_id === runId ? timeline : null;
  return (
    <section class="timeline" data-timeline={runId}>
      <h3>
        Timeline{' '}
        {runs.length > 1 && (
          <select
            aria-label="attempt"
            value={String(runId)}
            onChange={(e) => setPicked(Number(e.currentTarget.value))}
          >
            {runs.map((r) => (
              <option key={r.id} value={String(r.id)}>
                attempt {r.attempt}
              </option>
            ))}
          </select>
        )}
      </h3>
      {error !== null && <p class="muted">timeline: {error}</p>}
      {t && (
        <>
          <p class="why" data-why>
            {t.why ?? `${t.state} for ${formatDuration(t.to - t.from)}`}
          </p>
          <div class="axis">
            {LANES.map((lane) => (
              <div key={lane.name} class="lane" data-lane={lane.name}>
                <span class="lane-name">{lane.name}</span>
                <div class="track">
                  {t.items
                    .filter((i) => lane.kinds.includes(i.kind))
                    .map((i, n) => (
                      <Mark key={n} t={t} item={i} />
                    ))}
                </div>
              </div>
            ))}
          </div>
          <ol class="timeline-items">
            {t.items.map((i, n) => (
              <li key={n} data-kind={i.kind}>
                <span class="offset">+{formatDuration(Math.max(0, i.at - t.from))}</span>{' '}
                <strong>{i.kind.replace('_', ' ')}</strong> {i.text}
                {i.until !== null && i.until > i.at ? ` (${formatDuration(i.until - i.at)})` : ''}
              </li>
            ))}
          </ol>
        </>
      )}
    </section>
  );
}
