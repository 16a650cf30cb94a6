import { Hono } from 'hono';
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Profile } from '../core/profile.js';
import type { BoardStats } from '../core/task.js';
import type { MetricFigures } from '../store/sql/metric-figures.js';
import type { Store } from '../store/store.js';
import { requireAuth } from './auth.js';
import { notifyGauges } from './notify-metrics.js';

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
  /** What this host measures in memory (src/serve/instruments.ts), served beside the rest. */
  measured?: Registry;
}

/** The board figures of one scrape, read once from the store. */
interface Figures {
  boards: readonly BoardStats[];
  more: MetricFigures;
  profiles: readonly Profile[];
}

async function readFigures(store: Store): Promise<Figures> {
  const names = await store.listBoards();
  const [boards, more, profiles] = await Promise.all([
    Promise.all(names.map((b) => store.boardStats(b.name))),
    store.metricFigures(),
    store.listProfiles(),
  ]);
  return { boards, more, profiles };
}

/** A gauge whose samples are all set from the scrape's figures. */
function figureGauge(
  registry: Registry,
  name: string,
  help: string,
  labelNames: string[],
  samples: (f: Figures) => Iterable<[Record<string, string>, number]>,
  figures: () => Figures,
): void {
  new Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, n] of samples(figures())) this.set(labels, n);
    },
  });
}

const TOKEN_KINDS = ['input', 'output', 'cache_read', 'cache_write'] as const;

/** The store's figures beyond the board stats: workers, model use, paused profiles. */
function storeGauges(registry: Registry, figures: () => Figures): void {
  figureGauge(
    registry,
    'warden_workers',
    'Runs not ended (running or ending), by board, profile, host (pull runs: pull), mode and state.',
    ['board', 'profile', 'host', 'mode', 'state'],
    (f) => f.more.workers.map(({ n, ...labels }) => [labels, n]),
    figures,
  );
  figureGauge(
    registry,
    'warden_llm_requests',
    'Model requests through the proxy, by board and profile, in the kept history.',
    ['board', 'profile'],
    (f) => f.more.llm.map((u) => [{ board: u.board, profile: u.profile }, u.requests]),
    figures,
  );
  figureGauge(
    registry,
    'warden_llm_tokens',
    'Model tokens through the proxy, by board, profile and kind, in the kept history.',
    ['board', 'profile', 'kind'],
    (f) =>
      f.more.llm.flatMap((u) =>
        TOKEN_KINDS.map((kind): [Record<string, string>, number] => [
          { board: u.board, profile: u.profile, kind },
          u[`${kind}_tokens`],
        ]),
      ),
    figures,
  );
  figureGauge(
    registry,
    'warden_llm_cost_usd',
    'Cost of the priced model requests through the proxy, in US dollars, by board and profile.',
    ['board', 'profile'],
    (f) => f.more.llm.map((u) => [{ board: u.board, profile: u.profile }, u.cost_usd]),
    figures,
  );
  figureGauge(
    registry,
    'warden_profile_paused',
    'Paused profiles (1), by profile and who paused it: a person or the breaker.',
    ['profile', 'by'],
    (f) =>
      f.profiles
        .filter((p) => p.paused)
        .map((p) => [{ profile: p.name, by: p.paused_by ?? 'person' }, 1]),
    figures,
  );
  figureGauge(
    registry,
    'warden_breaker_trips',
    "Times each profile's breaker tripped since it last ran cleanly (0 once a probe succeeds).",
    ['profile'],
    (f) => f.profiles.map((p) => [{ profile: p.name }, p.breaker.trips]),
    figures,
  );
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
  figureGauge(
    registry,
    name,
    help,
    ['board', label],
    (f) =>
      f.boards.flatMap((stats) =>
        Object.entries(pick(stats)).map(([key, n]): [Record<string, string>, number] => [
          { board: stats.board, [label]: key },
          n,
        ]),
      ),
    figures,
  );
}

/**
 * `GET /metrics` in Prometheus' text format (SPEC §6, prom-client), behind an admin token
 * unless opened: Node's process metrics, this host's workers, and the board figures read from
 * the store at each scrape, so every host of a shared PostgreSQL reports the same board
 * figures (tasks, runs, endings, workers, tokens, cost, paused profiles) beside its own.
 * What only this host sees (dispatch and detection latency, stall warnings, store time) is
 * counted in memory by `measured` since it started (docs/operations.md).
 */
export function metricsRoutes(deps: MetricsDeps): Hono {
  const own = new Registry();
  collectDefaultMetrics({ register: own });
  let figures: Figures = { boards: [], more: { workers: [], llm: [] }, profiles: [] };
  const current = (): Figures => figures;
  boardGauge(own, 'warden_tasks', 'Tasks by board and status.', 'status', (s) => s.tasks, current);
  storeGauges(own, current);
  boardGauge(own, 'warden_runs', 'Runs by board and state.', 'state', (s) => s.runs, current);
  boardGauge(
    own,
    'warden_runs_ended',
    'Ended runs by board and outcome, since the board was made.',
    'outcome',
    (s) => s.outcomes,
    current,
  );
  new Gauge({
    name: 'warden_host_workers',
    help: "Workers this host's supervisor watches now.",
    registers: [own],
    collect() {
      this.set(deps.host.workers());
    },
  });
  new Gauge({
    name: 'warden_host_dispatching',
    help: "1 while this host's dispatcher loop runs, else 0.",
    registers: [own],
    collect() {
      this.set(deps.host.dispatching() ? 1 : 0);
    },
  });

  notifyGauges(own, deps.store);
  const registry = deps.measured ? Registry.merge([own, deps.measured]) : own;
  const app = new Hono();
  if (!deps.open) app.use('/metrics', requireAuth(deps.store, 'admin'));
  app.get('/metrics', async (c) => {
    figures = await readFigures(deps.store);
    const text = await registry.metrics();
    return c.body(text, 200, { 'content-type': registry.contentType });
  });
  return app;
}
