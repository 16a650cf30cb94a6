import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api.js';
import type { LogPiece } from '../api.js';

/** How much one read of the log takes: a run's log may be 100 MiB (its `log_cap`). */
const PAGE = 256 * 1024;
/** The most pages on screen: paging on, or following, drops the pages farthest away. */
const WINDOW = 4;

interface Props {
  runId: number;
  /** The run is still going: its log is followed while open. */
  live: boolean;
}

/** One read's bytes [from, to) of the file, decoded. */
interface Page {
  from: number;
  to: number;
  text: string;
}

/** The part of the log on screen: whole pages in order, and what the file was. */
interface View {
  pages: Page[];
  size: number;
  cut: number;
}

const pageOf = (p: LogPiece): Page => ({ from: p.offset, to: p.offset + p.length, text: p.log });

/** A view of one piece; one read during a cut takes the next poll to read the end again. */
function viewOf(p: LogPiece): View {
  return { pages: [pageOf(p)], size: p.size, cut: p.cutting ? -1 : p.cut };
}

/**
 * `v` with `p` after its pages (dropping the first ones past WINDOW), or before them. A piece
 * that follows on from the last page and fits in it joins it: following a live run reads a
 * few lines a second, and as pages of their own they pushed the whole window off screen.
 */
function joined(v: View, p: LogPiece, after: boolean): View {
  if (p.length === 0) return { ...v, size: p.size };
  if (!after) return { ...v, pages: [pageOf(p), ...v.pages].slice(0, WINDOW), size: p.size };
  const last = v.pages[v.pages.length - 1];
  if (last !== undefined && last.to === p.offset && last.to - last.from + p.length <= PAGE) {
    const grown = { from: last.from, to: p.offset + p.length, text: last.text + p.log };
    return { ...v, pages: [...v.pages.slice(0, -1), grown], size: p.size };
  }
  return { ...v, pages: [...v.pages, pageOf(p)].slice(-WINDOW), size: p.size };
}

const fromOf = (v: View): number => v.pages[0]?.from ?? 0;
const toOf = (v: View): number => v.pages[v.pages.length - 1]?.to ?? 0;

/**
 * Any run's full log in the drawer (issue #15), read a page at a time through
 * `GET /runs/{id}/log?offset=&bytes=`: it opens at the end; Earlier and Later page through
 * it, Start and End jump; at most WINDOW pages are kept on screen. A live run's log is
 * followed while the view is at its end: what the worker printed since is appended, or, when
 * it printed more than a page between two looks, the view jumps to the end. When the shim
 * cuts the log's middle (the `cut` count moves), the view starts again from the end; a read
 * made during a cut is read again at the next look.
 */
export function RunLog({ runId, live }: Props) {
  const [open, setOpen] = useState(false);
  const [view, setView] = useState<View | null>(null);
  const [error, setError] = useState<string | null>(null);
  const current = useRef<View | null>(null);
  current.current = view;
  // Where the box goes once the view is drawn: the end (it opens there, End, and a follow
  // while the person reads the end), the start (Start), or where the person left it. A trial's
  // log opened on its last page but at that page's top, its last lines 250 KB below.
  const box = useRef<HTMLPreElement>(null);
  const place = useRef<'end' | 'start' | null>('end');
  const pinned = useRef(true);
  useEffect(() => {
    const b = box.current;
    if (b === null || place.current === null) return;
    b.scrollTop = place.current === 'end' ? b.scrollHeight : 0;
    place.current = null;
  }, [view]);

  const show = async (read: () => Promise<View>): Promise<void> => {
    try {
      setView(await read());
      setError(null);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  const end = (): Promise<void> =>
    show(async () => {
      const v = viewOf(await api.logPiece(runId, null, PAGE));
      place.current = 'end';
      return v;
    });

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
      if (v === null || toOf(v) < v.size) return;
      void api
        .logPiece(runId, toOf(v), PAGE)
        .then((p) => {
          if (stop || p.cutting) return;
          if (p.cut !== v.cut || p.offset + p.length < p.size) return end();
          if (p.length > 0 && pinned.current) place.current = 'end';
          setView(joined(v, p, true));
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
    const from = Math.max(0, fromOf(v) - PAGE);
    return joined(v, await api.logPiece(runId, from, fromOf(v) - from), false);
  };
  const later = async (): Promise<View> => {
    if (v === null) throw new Error('no log yet');
    return joined(v, await api.logPiece(runId, toOf(v), PAGE), true);
  };
  return (
    <section class="run-log" data-run-log={runId}>
      <div class="run-log-bar">
        <strong>run {runId} log</strong>
        {v && (
          <small data-log-range>
            bytes {fromOf(v)}–{toOf(v)} of {v.size}
            {v.cut > 0 && `; ${v.cut} bytes cut from the middle (log_cap)`}
            {live && ' · live'}
          </small>
        )}
        <button type="button" disabled={!v || fromOf(v) === 0} onClick={() => void show(earlier)}>
          Earlier
        </button>
        <button type="button" disabled={!v || toOf(v) >= v.size} onClick={() => void show(later)}>
          Later
        </button>
        <button
          type="button"
          onClick={() =>
            void show(async () => {
              const v = viewOf(await api.logPiece(runId, 0, PAGE));
              place.current = 'start';
              return v;
            })
          }
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
        <pre
          class="log"
          data-full-log={runId}
          ref={box}
          onScroll={(e) => {
            const b = e.currentTarget;
            pinned.current = b.scrollTop + b.clientHeight >= b.scrollHeight - 16;
          }}
        >
          {v.pages.map((p) => p.text).join('') || '(no output yet)'}
        </pre>
      )}
    </section>
  );
}
