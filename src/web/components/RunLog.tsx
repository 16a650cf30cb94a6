import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api.js';
import type { LogPiece } from '../api.js';

/** How much one read of the log takes: a run's log may be 100 MiB (its `log_cap`). */
const PAGE = 256 * 1024;

interface Props {
  runId: number;
  /** The run is still going: its log is followed while open. */
  live: boolean;
}

/** The part of the log on screen: bytes [from, to) of the file, and what the file was. */
interface View {
  text: string;
  from: number;
  to: number;
  size: number;
  cut: number;
}

function viewOf(p: LogPiece): View {
  return { text: p.log, from: p.offset, to: p.offset + p.length, size: p.size, cut: p.cut };
}

/**
 * Any run's full log in the drawer (issue #15), read a page at a time through
 * `GET /runs/{id}/log?offset=&bytes=`: it opens at the end; Earlier and Later page through
 * it, Start and End jump. A live run's log is followed while open; when the shim cuts its
 * middle (the `cut` count moves), the view starts again from the end.
 */
export function RunLog({ runId, live }: Props) {
  const [open, setOpen] = useState(false);
  const [view, setView] = useState<View | null>(null);
  const [error, setError] = useState<string | null>(null);
  const current = useRef<View | null>(null);
  current.current = view;

  const show = async (read: () => Promise<View>): Promise<void> => {
    try {
      setView(await read());
      setError(null);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  const end = (): Promise<void> => show(async () => viewOf(await api.logPiece(runId, null, PAGE)));

  useEffect(() => {
    if (open) void end();
  }, [open, runId]);

  // Following: what the worker printed since, appended; a cut starts the view again. When
  // the run ends, one more read takes what it printed last.
  useEffect(() => {
    if (!open) return;
    let stop = false;
    const more = (): void => {
      const v = current.current;
      if (v === null || v.to < v.size) return;
      void api
        .logPiece(runId, v.to, PAGE)
        .then((p) => {
          if (stop) return;
          if (p.cut !== v.cut) return end();
          setView({ ...v, text: v.text + p.log, to: p.offset + p.length, size: p.size });
        })
        .catch(() => undefined);
    };
    if (!live) {
      more();
      return;
    }
    const timer = setInterval(more, 1000);
    return () => {
      stop = true;
      clearInterval(timer);
    };
  }, [open, live, runId]);

  if (!open) {
    return (
      <button type="button" class="link" data-open-log={runId} onClick={() => setOpen(true)}>
        full log
      </button>
    );
  }
  const v = view;
  const earlier = async (): Promise<View> => {
    if (v === null) throw new Error('no log yet');
    const from = Math.max(0, v.from - PAGE);
    const p = await api.logPiece(runId, from, v.from - from);
    return { ...v, text: p.log + v.text, from: p.offset, size: p.size };
  };
  const later = async (): Promise<View> => {
    if (v === null) throw new Error('no log yet');
    const p = await api.logPiece(runId, v.to, PAGE);
    return { ...v, text: v.text + p.log, to: p.offset + p.length, size: p.size };
  };
  return (
    <section class="run-log" data-run-log={runId}>
      <div class="run-log-bar">
        <strong>run {runId} log</strong>
        {v && (
          <small data-log-range>
            bytes {v.from}–{v.to} of {v.size}
            {v.cut > 0 && `; ${v.cut} bytes cut from the middle (log_cap)`}
            {live && ' · live'}
          </small>
        )}
        <button type="button" disabled={!v || v.from === 0} onClick={() => void show(earlier)}>
          Earlier
        </button>
        <button type="button" disabled={!v || v.to >= v.size} onClick={() => void show(later)}>
          Later
        </button>
        <button
          type="button"
          onClick={() => void show(async () => viewOf(await api.logPiece(runId, 0, PAGE)))}
        >
          Start
        </button>
        <button type="button" onClick={() => void end()}>
          End
        </button>
        <button type="button" onClick={() => setOpen(false)}>
          Close
        </button>
      </div>
      {error !== null && (
        <p class="muted" data-log-error>
          {error}
        </p>
      )}
      {v && (
        <pre class="log" data-full-log={runId}>
          {v.text || '(no output yet)'}
        </pre>
      )}
    </section>
  );
}
