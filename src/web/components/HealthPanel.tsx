import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Health } from '../api.js';
import { unpricedNote, usageShort } from '../../core/describe.js';

/**
 * Running workers per profile, runs completed and failed over the last hour, and the
 * tokens and cost of the board's model traffic in that hour.
 */
export function HealthPanel({ health }: { health: Health | null }) {
  const chart = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  useEffect(() => {
    if (!health || !chart.current) return;
    const data: uPlot.AlignedData = [
      health.last_hour.map((b) => b.at / 1000),
      health.last_hour.map((b) => b.completed),
      health.last_hour.map((b) => b.failed),
    ];
    if (plot.current) {
      plot.current.setData(data);
      return;
    }
    // Canvas axes cannot use CSS variables: take the page's text colour.
    const ink = getComputedStyle(document.body).color;
    plot.current = new uPlot(
      {
        width: 320,
        height: 70,
        legend: { show: false },
        scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
        series: [
          {},
          { label: 'completed', stroke: '#2e9d5b', width: 2 },
          { label: 'failed', stroke: '#d1453b', width: 2 },
        ],
        axes: [
          { stroke: ink, size: 24 },
          { stroke: ink, size: 30 },
        ],
      },
      data,
      chart.current,
    );
  }, [health]);
  useEffect(() => () => plot.current?.destroy(), []);
  const running = Object.entries(health?.running_by_profile ?? {});
  const llm = health?.llm_last_hour;
  return (
    <aside class="health" aria-label="health">
      <h2>Running now</h2>
      <div class="running">
        {running.length === 0 ? (
          <p>nothing</p>
        ) : (
          running.map(([p, n]) => (
            <p key={p}>
              {p}: {n}
            </p>
          ))
        )}
      </div>
      <h2>Runs, last hour</h2>
      <div ref={chart} aria-label="completed (green) and failed (red) runs per 5 minutes" />
      <p class="legend">
        <span class="ok">completed</span> <span class="bad">failed</span>
      </p>
      <h2>Model, last hour</h2>
      <p data-llm="health" title={unpricedNote(llm?.unpriced ?? 0) ?? ''}>
        {!llm || llm.requests === 0 ? 'no requests' : usageShort(llm)}
      </p>
    </aside>
  );
}
