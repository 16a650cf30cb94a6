import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, UNREACHABLE } from './api.js';
import type { BoardView, Card, Health } from './api.js';
import { Banner } from './components/Banner.js';
import { Board } from './components/Board.js';
import { BulkBar } from './components/BulkBar.js';
import { CreateForm } from './components/CreateForm.js';
import { Drawer } from './components/Drawer.js';
import { HealthPanel } from './components/HealthPanel.js';
import { Inbox } from './components/Inbox.js';
import { Report } from './components/Report.js';
import { Schedules } from './components/Schedules.js';
import { SUPERVISOR_DEFAULTS } from '../core/defaults.js';

const PER_COLUMN = 50;
/** How often the page loads again while a run is in progress: serve's progress batch. */
const RUNNING_REFRESH_MS = SUPERVISOR_DEFAULTS.progress_flush_ms;
/**
 * How long the first load waits for the event stream to open before it goes ahead anyway (a
 * proxy that holds the stream back must not keep the board from showing).
 */
const STREAM_WAIT_MS = 500;

/** What dropping a card on a column asks the server to do; null when no person can. */
function verbFor(from: string, to: string): { verb: string; needsReason?: boolean } | null {
  if (to === 'done') return { verb: 'done' };
  if (to === 'archived') return { verb: 'archive' };
  if (to === 'blocked') return { verb: 'block', needsReason: true };
  if (to === 'ready' || to === 'todo') {
    if (from === 'blocked') return { verb: 'unblock' };
    if (from === 'done') return { verb: 'retry' };
    if (from === 'triage') return { verb: 'accept' };
    if (from === 'review') return { verb: 'reopen' };
  }
  return null;
}

function initialTheme(): string {
  const saved = localStorage.getItem('warden-theme');
  if (saved === 'light' || saved === 'dark') return saved;
  return matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

/** The task a link names with `?task=ID`, or null. */
function linkedTask(): number | null {
  const id = Number(new URLSearchParams(location.search).get('task'));
  return Number.isSafeInteger(id) && id > 0 ? id : null;
}

/** The dashboard: the board, its health, and a drawer for one task, live over SSE. */
export function App() {
  const board = new URLSearchParams(location.search).get('board') ?? 'default';
  const [view, setView] = useState<BoardView | null>(null);
  const [extra, setExtra] = useState<Record<string, Card[]>>({});
  const [health, setHealth] = useState<Health | null>(null);
  const pausedProfiles = new Set((health?.paused_profiles ?? []).map((p) => p.name));
  const [q, setQ] = useState('');
  const [archived, setArchived] = useState(false);
  // `?task=ID` (a notification's link) opens that task's drawer.
  const [selected, setSelected] = useState<number | null>(linkedTask);
  const [message, setMessage] = useState<string | null>(null);
  /** Why the board cannot be shown (it does not exist), instead of loading for ever. */
  const [missing, setMissing] = useState<string | null>(null);
  const [theme, setTheme] = useState(initialTheme);
  const [now, setNow] = useState(Date.now());
  // Each change loads the page again; null until its first load, once the event stream is
  // open (see below).
  const [version, setVersion] = useState<number | null>(null);
  /** Loads the page again, once it has started. */
  const again = useCallback(() => setVersion((v) => (v === null ? v : v + 1)), []);
  const [live, setLive] = useState(true);
  const [loggedOut, setLoggedOut] = useState(false);
  const pending = useRef<number | null>(null);

  /** Whether the message says serve did not answer: it goes once the stream opens again. */
  const unreachable = useRef(false);
  const fail = useCallback((err: unknown) => {
    if (err instanceof ApiError && err.status === 401) setLoggedOut(true);
    else {
      unreachable.current = err instanceof ApiError && err.code === UNREACHABLE;
      setMessage(err instanceof Error ? err.message : String(err));
    }
  }, []);

  const refresh = useCallback(async () => {
    // The health panel comes beside the board, not before it: the board shows as soon as it
    // is read, however long the panel's figures take.
    const panel = api.health(board).then(setHealth, fail);
    try {
      const v = await api.board(board, q, PER_COLUMN, archived);
      setView(v);
      setExtra({});
      setMissing(null);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) setMissing(err.message);
      else fail(err);
    }
    await panel;
  }, [board, q, archived, fail]);

  useEffect(() => {
    if (version !== null) void refresh();
  }, [refresh, version]);
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);
  // Until the theme button is pressed (which saves the choice), the page follows the system.
  useEffect(() => {
    const system = matchMedia('(prefers-color-scheme: dark)');
    const follow = (): void => {
      if (localStorage.getItem('warden-theme') === null)
        setTheme(system.matches ? 'dark' : 'light');
    };
    system.addEventListener('change', follow);
    return () => system.removeEventListener('change', follow);
  }, []);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  // Progress and model usage change without events (serve writes them in batches every
  // 15 s by default): while something runs, load again at that pace.
  const running = (view?.counts.running ?? 0) > 0;
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(again, RUNNING_REFRESH_MS);
    return () => clearInterval(timer);
  }, [running, again]);
  useEffect(() => {
    // EventSource reconnects by itself, resuming after the last event id it saw.
    const es = new EventSource(`/api/v1/stream?board=${encodeURIComponent(board)}`);
    // The stream starts from the newest event when it opens, so the page's first load waits
    // for that: what happens after comes as events, and nothing is loaded twice. If the
    // stream fails or is slow to open, the page loads anyway, and again at every opening
    // after that for whatever happened between.
    let loaded = false;
    const load = (): void => {
      window.clearTimeout(wait);
      // This stream's first opening starts the page (already started: another board's
      // stream, whose change loads it anyway); a later one loads it again.
      const first = !loaded;
      loaded = true;
      setVersion((v) => (v === null ? 0 : first ? v : v + 1));
    };
    const wait = window.setTimeout(load, STREAM_WAIT_MS);
    es.onopen = () => {
      setLive(true);
      if (unreachable.current) {
        unreachable.current = false;
        setMessage(null);
      }
      load();
    };
    es.onerror = () => {
      setLive(false);
      if (!loaded) load();
    };
    es.addEventListener('warden', () => {
      if (pending.current !== null) return;
      pending.current = window.setTimeout(() => {
        pending.current = null;
        again();
      }, 150);
    });
    return () => {
      window.clearTimeout(wait);
      es.close();
    };
  }, [board, again]);

  const move = async (id: number, from: string, to: string): Promise<void> => {
    const v = verbFor(from, to);
    if (v === null) {
      unreachable.current = false;
      setMessage(
        to === 'running'
          ? 'Tasks start running when the dispatcher claims them; they cannot be dragged there.'
          : `A task cannot be moved from ${from} to ${to} by hand.`,
      );
      return;
    }
    let extraBody = {};
    if (v.needsReason) {
      const reason = window.prompt('Why is it blocked?');
      if (!reason) return;
      extraBody = { reason, kind: 'needs_input' };
    }
    try {
      await api.move(id, v.verb, extraBody);
      setMessage(null);
      again();
    } catch (err) {
      fail(err);
    }
  };

  if (loggedOut) {
    return (
      <main class="login">
        <h1>warden</h1>
        <p role="alert">
          Your session has ended. Run `warden open
          {selected === null ? '' : ` --task ${selected}`}` and follow the link to log in again.
        </p>
      </main>
    );
  }
  return (
    <div class="app">
      <header class="top">
        <h1>warden · {board}</h1>
        <input
          type="search"
          aria-label="search tasks"
          placeholder="Search by title, #id or assignee"
          value={q}
          onInput={(e) => setQ(e.currentTarget.value)}
        />
        <label>
          <input
            type="checkbox"
            checked={archived}
            onChange={(e) => setArchived(e.currentTarget.checked)}
          />{' '}
          archived
        </label>
        <button
          onClick={() => {
            const next = theme === 'dark' ? 'light' : 'dark';
            localStorage.setItem('warden-theme', next);
            setTheme(next);
          }}
          aria-label="switch theme"
        >
          {theme === 'dark' ? 'Light' : 'Dark'}
        </button>
        <form method="post" action="/logout">
          <button type="submit">Log out</button>
        </form>
      </header>
      <Banner
        health={health}
        live={live}
        onResume={(name) => {
          api.resumeProfile(name).then(() => {
            setMessage(null);
            again();
          }, fail);
        }}
      />
      {message && (
        <div class="toast" role="alert" data-toast>
          {message}
          <button onClick={() => setMessage(null)} aria-label="dismiss">
            ×
          </button>
        </div>
      )}
      <Inbox board={board} version={version} now={now} onOpen={setSelected} onError={fail} />
      <Report board={board} version={version} onOpen={setSelected} onError={fail} />
      <CreateForm
        onCreate={async (title, body, assignee, priority) => {
          try {
            const t = await api.create(board, title, body, assignee, priority);
            setMessage(null);
            again();
            setSelected(t.id);
          } catch (err) {
            fail(err);
            throw err;
          }
        }}
      />
      <div class="main">
        {view ? (
          <Board
            view={view}
            extra={extra}
            offBoard={view.off_board}
            archived={archived}
            now={now}
            onOpen={setSelected}
            pausedProfiles={pausedProfiles}
            onDrop={(id, from, to) => void move(id, from, to)}
            tools={(status, cards) =>
              status === 'blocked' || status === 'done' ? (
                <BulkBar
                  key={status}
                  board={board}
                  status={status}
                  cards={cards}
                  onChanged={() => {
                    setMessage(null);
                    again();
                  }}
                />
              ) : null
            }
            onMore={(status, after) =>
              void api
                .more(board, status, q, after, 100)
                .then((r) =>
                  setExtra((e) => ({
                    ...e,
                    [status]: [...(e[status] ?? []), ...r.tasks.map((t) => ({ ...t, run: null }))],
                  })),
                )
                .catch(fail)
            }
          />
        ) : missing !== null ? (
          <p role="alert" data-board-missing>
            {missing}
          </p>
        ) : (
          <p>loading…</p>
        )}
        <HealthPanel health={health} />
      </div>
      <Schedules board={board} version={version} now={now} onError={fail} />
      {/* Like the panels, a drawer (a `?task=` link's) loads once the page has started. */}
      {selected !== null && version !== null && (
        <Drawer
          id={selected}
          now={now}
          version={version}
          onOpen={setSelected}
          onClose={() => {
            setSelected(null);
            // The keyboard's focus goes back to the card the drawer was opened from.
            document.querySelector<HTMLElement>(`[data-task="${selected}"]`)?.focus();
          }}
          onError={fail}
          onDone={() => setMessage(null)}
        />
      )}
    </div>
  );
}
