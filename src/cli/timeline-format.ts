import { formatDuration } from '../core/duration.js';
import type { RunTimeline } from '../core/timeline.js';

/** A time of day in UTC with seconds, as the event lines show it. */
function clock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}

/**
 * `warden runs ID --timeline`: one line per item, with its offset from the run's start (a
 * span shows its length), the time of day and the words; the why first, what was cut last.
 */
export function timelineLines(t: RunTimeline): string {
  const head = `run ${t.run_id} of task #${t.task_id}, attempt ${t.attempt}: ${
    t.why ?? `${t.state} for ${formatDuration(t.to - t.from)}`
  }`;
  const rows = t.items.map((i) => {
    const offset = `+${formatDuration(Math.max(0, i.at - t.from))}`;
    const span = i.until !== null && i.until > i.at ? ` (${formatDuration(i.until - i.at)})` : '';
    return `  ${offset.padEnd(9)} ${clock(i.at)}  ${i.kind.padEnd(13)} ${i.text}${span}`;
  });
  const cut = Object.entries(t.cut)
    .filter(([, was]) => was)
    .map(([what]) => what);
  const note =
    cut.length > 0 ? [`  (older ${cut.join(', ')} left off: only the newest are shown)`] : [];
  return [head, ...rows, ...note].join('\n');
}
