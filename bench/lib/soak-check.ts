/**
 * The soak's verdict (bench/soak.ts): what the store's history and the workers' own life log
 * say happened, checked against SPEC §1's promises.
 */
import { readFileSync, readdirSync } from 'node:fs';
import type { Run } from '../../src/core/run.js';
import type { Task } from '../../src/core/task.js';
import type { WardenEvent } from '../../src/core/events.js';
import type { SqliteStore } from '../../src/store/sqlite/open.js';

/** One line of the life log: `KIND TASK RUN TOKEN EPOCH_MS [DETAIL...]`. */
export interface LifeLine {
  kind: string;
  task: number;
  run: number;
  at: number;
  detail: string[];
}

export function parseLifeLog(text: string): LifeLine[] {
  const out: LifeLine[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 5 || f[0] === '') continue;
    out.push({
      kind: f[0] ?? '',
      task: Number(f[1]),
      run: Number(f[2]),
      at: Number(f[4]),
      detail: f.slice(5),
    });
  }
  return out;
}

/** Every event of the home, oldest first. */
export async function allEvents(store: SqliteStore): Promise<WardenEvent[]> {
  const out: WardenEvent[] = [];
  for (;;) {
    const page = await store.listEvents({ after_id: out.at(-1)?.id ?? 0, limit: 5000 });
    out.push(...page);
    if (page.length < 5000) return out;
  }
}

/** A process whose command line or environment names `needle` (the soak's home). */
export function processesNaming(needle: string): { pid: number; cmd: string; env: string }[] {
  const found: { pid: number; cmd: string; env: string }[] = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    let cmd = '';
    let env = '';
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      env = readFileSync(`/proc/${pid}/environ`, 'utf8');
    } catch {
      // Gone, or another user's: not ours either way.
    }
    if (cmd.includes(needle) || env.includes(needle)) found.push({ pid, cmd, env });
  }
  return found;
}

/** The anomaly counts; each must be 0. */
export interface Anomalies {
  /** Tasks neither done, blocked, archived nor running a live run at the end. */
  not_terminal: number;
  /** A later attempt's first life-log line before an earlier attempt's last one (per task). */
  overlapping_runs: number;
  /** A worker call answered 0 although it was sent after its run had begun ending. */
  stale_call_accepted: number;
  /** A worker-made event (not `stale_run`) stamped after its run ended or was replaced. */
  stale_event_accepted: number;
  /** A `complete` answered 0 whose result is not on the run and the task. */
  acknowledged_result_lost: number;
  /** Processes left that name the soak's home, and runs whose process is still alive. */
  processes_left: number;
}

export interface Verdict {
  anomalies: Anomalies;
  details: string[];
  counts: Record<string, number>;
}

/**
 * Checks (1)–(4) of the soak; `alive(run)` says whether a run's process is still alive (by
 * process identity) for "legitimately running".
 */
export async function verdict(
  store: SqliteStore,
  lifeLog: string,
  alive: (run: Run) => boolean,
): Promise<Verdict> {
  const details: string[] = [];
  const tasks: Task[] = await store.listTasks({ include_archived: true, limit: 1_000_000 });
  const runs = new Map<number, Run>();
  const runsOfTask = new Map<number, Run[]>();
  for (const t of tasks) {
    const list = (await store.listRuns(t.id)).sort((a, b) => a.attempt - b.attempt);
    runsOfTask.set(t.id, list);
    for (const r of list) runs.set(r.id, r);
  }
  const taskById = new Map(tasks.map((t) => [t.id, t]));
  const counts: Record<string, number> = { tasks: tasks.length, runs: runs.size };
  for (const t of tasks) counts[`tasks_${t.status}`] = (counts[`tasks_${t.status}`] ?? 0) + 1;
  for (const r of runs.values()) {
    const key = `runs_${r.outcome ?? r.state}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }

  // (1) every task terminal or legitimately running.
  let notTerminal = 0;
  for (const t of tasks) {
    if (['done', 'blocked', 'archived'].includes(t.status)) continue;
    const run = t.current_run_id === null ? undefined : runs.get(t.current_run_id);
    if (t.status === 'running' && run?.state === 'running' && alive(run)) {
      counts.running_at_end = (counts.running_at_end ?? 0) + 1;
      continue;
    }
    notTerminal++;
    details.push(
      `task ${t.id} is ${t.status} (run ${t.current_run_id ?? '-'} ${run?.state ?? ''})`,
    );
  }

  // (2) no two live runs of one task overlapped, from the workers' own lines.
  const lines = parseLifeLog(lifeLog);
  const span = new Map<number, { task: number; first: number; last: number }>();
  for (const l of lines) {
    const s = span.get(l.run);
    if (s === undefined) span.set(l.run, { task: l.task, first: l.at, last: l.at });
    else {
      s.first = Math.min(s.first, l.at);
      s.last = Math.max(s.last, l.at);
    }
  }
  let overlapping = 0;
  for (const [task, list] of runsOfTask) {
    let lastEnd = -Infinity;
    let lastRun = 0;
    for (const r of list) {
      const s = span.get(r.id);
      if (s === undefined) continue;
      if (s.first < lastEnd) {
        overlapping++;
        details.push(
          `task ${task}: run ${r.id} logged its start at ${s.first}, before run ${lastRun}'s last line at ${lastEnd}`,
        );
      }
      if (s.last > lastEnd) {
        lastEnd = s.last;
        lastRun = r.id;
      }
    }
  }

  // (3) no stale write accepted: from what workers saw, and from the store's history.
  let staleCalls = 0;
  let lost = 0;
  const calls: Record<string, number> = {};
  for (const l of lines) {
    if (l.kind !== 'progress' && l.kind !== 'complete') continue;
    const sentAt = Number(l.detail[0]);
    const rc = Number(l.detail[1]);
    calls[`${l.kind}_exit_${rc}`] = (calls[`${l.kind}_exit_${rc}`] ?? 0) + 1;
    if (rc !== 0) continue;
    const run = runs.get(l.run);
    if (run === undefined) {
      staleCalls++;
      details.push(`run ${l.run}: a ${l.kind} answered 0 but the store has no such run`);
      continue;
    }
    const ownComplete = l.kind === 'complete' && run.outcome === 'completed';
    if (!ownComplete && run.ending_at !== null && sentAt > run.ending_at) {
      staleCalls++;
      details.push(
        `run ${run.id}: ${l.kind} sent at ${sentAt} answered 0, after the run began ending at ${run.ending_at} (${run.outcome ?? ''})`,
      );
    }
    // (4) no acknowledged result lost.
    if (l.kind === 'complete') {
      const summary = `soak run ${run.id}`;
      const task = taskById.get(run.task_id);
      if (
        run.outcome !== 'completed' ||
        run.result?.summary !== summary ||
        task?.status !== 'done' ||
        task.result?.summary !== summary
      ) {
        lost++;
        details.push(
          `run ${run.id}: complete answered 0 but run is ${run.outcome ?? run.state} with ` +
            `${JSON.stringify(run.result?.summary ?? null)}, task ${task?.status ?? '?'} with ` +
            `${JSON.stringify(task?.result?.summary ?? null)}`,
        );
      }
    }
  }
  Object.assign(counts, calls);

  let staleEvents = 0;
  const events = await allEvents(store);
  counts.events = events.length;
  counts.stale_run_refusals = events.filter((e) => e.kind === 'stale_run').length;
  for (const e of events) {
    const m = /^worker:run\/(\d+)$/.exec(e.actor);
    if (m === null || e.kind === 'stale_run') continue;
    const run = runs.get(Number(m[1]));
    if (run === undefined) continue;
    const late = e.kind === 'run_ending' && e.payload.late === true;
    const next = (runsOfTask.get(run.task_id) ?? []).find((r) => r.attempt > run.attempt);
    if (
      (!late && run.ending_at !== null && e.at > run.ending_at) ||
      (next !== undefined && e.at > next.started_at)
    ) {
      staleEvents++;
      details.push(
        `event ${e.id} (${e.kind}) by run ${run.id} at ${e.at}: the run began ending at ` +
          `${run.ending_at ?? '-'}${next ? `, run ${next.id} started at ${next.started_at}` : ''}`,
      );
    }
  }

  return {
    anomalies: {
      not_terminal: notTerminal,
      overlapping_runs: overlapping,
      stale_call_accepted: staleCalls,
      stale_event_accepted: staleEvents,
      acknowledged_result_lost: lost,
      processes_left: 0,
    },
    details,
    counts,
  };
}
