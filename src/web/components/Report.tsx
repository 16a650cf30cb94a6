import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { counted } from '../../core/counting.js';
import { costText } from '../../core/describe.js';
import { formatTokens, totalTokens } from '../../core/llm.js';
import { REPORT_ORDER, workText } from '../../core/report.js';
import type { Report as ReportView } from '../../core/report.js';

/** The windows a person picks from: since when the workers' work is shown. */
const WINDOWS = ['12h', '24h', '3d', '7d'] as const;
/** Tasks the panel lists; the rest are counted and left to `warden report`. */
const SHOWN = 200;
/** Where the panel's choices are kept between visits. */
const OPEN_KEY = 'warden-report-open';
const WINDOW_KEY = 'warden-report-since';

function savedWindow(): string {
  const saved = localStorage.getItem(WINDOW_KEY);
  return saved !== null && (WINDOWS as readonly string[]).includes(saved) ? saved : '24h';
}

interface Props {
  board: string;
  /** Loaded again at each change of it; null until the page's first load. */
  version: number | null;
  onOpen: (taskId: number) => void;
  onError: (err: unknown) => void;
}

/**
 * The morning report (`warden report`) on the dashboard: what the board's workers did in the
 * window, each task once with its branch, the work its latest run left, its runs, its cost and
 * what its card says, done first; then what the model cost. Its headline shows closed too.
 */
export function Report({ board, version, onOpen, onError }: Props) {
  const [since, setSince] = useState(savedWindow);
  const [open, setOpen] = useState(() => localStorage.getItem(OPEN_KEY) === '1');
  const [report, setReport] = useState<ReportView | null>(null);
  useEffect(() => {
    if (version !== null) api.report(board, since, SHOWN).then(setReport, onError);
  }, [board, since, version, onError]);
  if (report === null) return null;
  const counts = REPORT_ORDER.filter((s) => (report.counts[s] ?? 0) > 0)
    .map((s) => `${s} ${report.counts[s]}`)
    .join(', ');
  const s = report.spent;
  return (
    <details
      class="report"
      data-report={report.total}
      open={open}
      onToggle={(e) => {
        const now = e.currentTarget.open;
        localStorage.setItem(OPEN_KEY, now ? '1' : '0');
        setOpen(now);
      }}
    >
      <summary>
        <span class="report-title">Worked in the last</span>{' '}
        <select
          aria-label="report window"
          value={since}
          onClick={(e) => e.stopPropagation()}
          onChange={(e) => {
            localStorage.setItem(WINDOW_KEY, e.currentTarget.value);
            setSince(e.currentTarget.value);
          }}
        >
          {WINDOWS.map((w) => (
            <option key={w} value={w}>
              {w}
            </option>
          ))}
        </select>
        :{' '}
        <span data-report-headline>
          {report.total === 0 ? 'nothing' : `${counted(report.total, 'task')} (${counts})`}
        </span>
        <span class="muted" data-report-spent>
          {s.requests === 0
            ? ' · no model requests'
            : ` · model ${costText(s)}, ${counted(s.requests, 'request')}, ${formatTokens(totalTokens(s.tokens))} tokens`}
        </span>
      </summary>
      {report.tasks.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>task</th>
              <th>status</th>
              <th>title</th>
              <th>branch</th>
              <th>work</th>
              <th>runs</th>
              <th>cost</th>
              <th>note</th>
            </tr>
          </thead>
          <tbody>
            {report.tasks.map((t) => (
              <tr key={t.id} data-report-task={t.id} data-status={t.status}>
                <td>
                  <button
                    class="link"
                    onClick={() => onOpen(t.id)}
                    aria-label={`open task ${t.id}`}
                  >
                    #{t.id}
                  </button>
                </td>
                <td>{t.status}</td>
                <td>{t.title}</td>
                <td>
                  <code>{t.branch ?? '-'}</code>
                </td>
                <td data-report-work>{workText(t)}</td>
                <td>{t.runs}</td>
                <td>{t.requests === 0 ? '-' : costText(t)}</td>
                <td class="report-note">{t.note}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {report.total > report.tasks.length && (
        <p class="muted">
          {report.tasks.length} of {report.total} shown; `warden report --since {since}` lists them
          all
        </p>
      )}
    </details>
  );
}
