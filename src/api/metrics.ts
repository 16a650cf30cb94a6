import { Hono } from 'hono';
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { BoardStats } from '../core/task.js';
import type { Store } from '../store/store.js';
import { requireAuth } from './auth.js';

/** What this host tells `/metrics` about itself, read at each scrape. */
export interface HostGauges {
  /** Workers this host's supervisor watches now (spawned runs). */
  workers: () => number;
  /** Whether this host's dispatcher loop is running. */
  dispatching: () => boolean;
}

/** What `/metrics` is built from. */
export interface MetricsDeps {
  store: Store;
  host: HostGauges;
  /** `serve --metrics-open`: the route answers without a token (the rest of the API does not). */
  open: boolean;
}

/** The board figures of one scrape: every board's stats, read once. */
type Figures = readonly BoardStats[];

async function readFigures(store: Store): Promise<Figures> {
  const boards = await store.listBoards();
  return Promise.all(boards.map((b) => store.boardStats(b.name)));
}

/** A gauge of one figure per board and key, set from the scrape's figures. */
function boardGauge(
  registry: Registry,
  name: string,
  help: string,
  label: string,
  pick: (stats: BoardStats) => Record<string, number>,
  figures: () => Figures,
): void {
  new Gauge({
    name,
    help,
    labelNames: ['board', label],
    registers: [registry],
    collect() {
      this.reset();
      for (const stats of figures())
        for (const [key, n] of Object.entries(pick(stats)))
          this.set({ board: stats.board, [label]: key }, n);
    },
  });
}

/**
 * `GET /metrics` in Prometheus' text format (SPEC §6, prom-client), behind an admin token
 * unless opened: Node's process metrics, this host's workers, and the board figures read from
 * the store at each scrape, so every host of a shared PostgreSQL reports the same board
 * figures beside its own. Nothing is counted in memory, so a restart loses nothing.
 */
export function metricsRoutes(deps: MetricsDeps): Hono {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  let figures: Figures = [];
  const current = (): Figures => figures;
  boardGauge(
    registry,
    'warden_tasks',
    'Tasks by board and status.',
    'status',
    (s) => s.tasks,
    current,
  );
  boardGauge(registry, 'warden_runs', 'Runs by board and state.', 'state', (s) => s.runs, current);
  boardGauge(
    registry,
    'warden_runs_ended',
    'Ended runs by board and outcome, since the board was made.',
    'outcome',
    (s) => s.outcomes,
    current,
  );
  new Gauge({
    name: 'warden_host_workers',
    help: "Workers this host's supervisor watches now.",
    registers: [registry],
    collect() {
      this.set(deps.host.workers());
    },
  });
  new Gauge({
    name: 'warden_host_dispatching',
    help: "1 while this host's dispatcher loop runs, else 0.",
    registers: [registry],
    collect() {
      this.set(deps.host.dispatching() ? 1 : 0);
    },
  });

  const app = new Hono();
  if (!deps.open) app.use('/metrics', requireAuth(deps.store, 'admin'));
  app.get('/metrics', async (c) => {
    figures = await readFigures(deps.store);
    const text = await registry.metrics();
    return c.body(text, 200, { 'content-type': registry.contentType });
  });
  return app;
}
