/**
 * Fills a fresh warden store with a large board straight through SQL (set-based INSERT …
 * SELECT over a generated series, a few statements in all), for `bench/scale.ts`. Going
 * through the store API would take hours for a million events; the rows written here are
 * the same shape the store writes (statuses, runs, links, comments, events), so the reads
 * measured afterwards see what a real board of that size holds.
 *
 * The layout, by task number i (1-based) of `tasks`:
 * - board `default` for every i, and `ops` for a tenth as many more;
 * - status by i % 100: 0–69 done, 70–77 archived, 78–83 ready, 84–88 todo, 89–92 blocked,
 *   93–95 review, 96 triage, 97–99 running (with an open run);
 * - assignee `coder`, `reviewer` or none by i % 3; priority i % 4;
 * - a link to the previous task unless i % 5 = 0 (chains of five); a comment every tenth;
 * - one ended run per done task, one running run per running task;
 * - `events` events spread evenly over the tasks, in creation order.
 */
import Database from 'better-sqlite3';
import pg from 'pg';

export interface FillPlan {
  tasks: number;
  events: number;
  now: number;
}

const STATUS = `CASE
  WHEN i % 100 < 70 THEN 'done' WHEN i % 100 < 78 THEN 'archived'
  WHEN i % 100 < 84 THEN 'ready' WHEN i % 100 < 89 THEN 'todo'
  WHEN i % 100 < 93 THEN 'blocked' WHEN i % 100 < 96 THEN 'review'
  WHEN i % 100 < 97 THEN 'triage' ELSE 'running' END`;

const KINDS = ['task_moved', 'run_started', 'run_progress', 'task_commented', 'run_ended'];
const KIND = `CASE j % ${KINDS.length} ${KINDS.map((k, n) => `WHEN ${n} THEN '${k}'`).join(' ')} END`;

/**
 * The statements, in a dialect-neutral form: `SERIES(n)` stands for a one-column (i) series
 * 1..n, of integers wide enough for the products below.
 */
function statements(plan: FillPlan): string[] {
  const all = plan.tasks + Math.floor(plan.tasks / 10);
  const board = `CASE WHEN i > ${plan.tasks} THEN 'ops' ELSE 'default' END`;
  const at = (col: string): string => `${plan.now} - (${all} - ${col}) * 1000`;
  return [
    `INSERT INTO tasks (id, board, title, body, assignee, priority, status, block_reason, block_kind,
       created_by, created_at, updated_at)
     SELECT i, ${board}, 'Task ' || i || ': ' || CASE i % 7 WHEN 0 THEN 'fix the flaky login test'
       WHEN 1 THEN 'write the release notes' WHEN 2 THEN 'port the parser' WHEN 3 THEN 'review the schema'
       WHEN 4 THEN 'profile the build' WHEN 5 THEN 'triage the inbox' ELSE 'tidy the docs' END,
       'Body of task ' || i, CASE i % 3 WHEN 0 THEN 'coder' WHEN 1 THEN 'reviewer' ELSE NULL END,
       i % 4, ${STATUS},
       CASE WHEN ${STATUS} = 'blocked' THEN 'needs a look' ELSE NULL END,
       CASE WHEN ${STATUS} = 'blocked' THEN 'needs_input' ELSE NULL END,
       'person:bench', ${at('i')}, ${at('i')}
     FROM SERIES(${all})`,
    `INSERT INTO runs (task_id, board, attempt, state, mode, token_hash, profile, started_at, ended_at, outcome)
     SELECT id, board, 1, CASE WHEN status = 'running' THEN 'running' ELSE 'ended' END, 'spawned',
       'bench-' || id, assignee, created_at, CASE WHEN status = 'done' THEN created_at + 500 ELSE NULL END,
       CASE WHEN status = 'done' THEN 'done' ELSE NULL END
     FROM tasks WHERE status IN ('done', 'running') ORDER BY id`,
    `UPDATE tasks SET current_run_id = (SELECT r.id FROM runs r WHERE r.task_id = tasks.id),
       attempts = 1 WHERE status = 'running'`,
    `UPDATE tasks SET attempts = 1 WHERE status = 'done'`,
    `INSERT INTO task_links (parent_id, child_id, created_at)
     SELECT i - 1, i, ${at('i')} FROM SERIES(${all}) WHERE i % 5 <> 0 AND i > 1`,
    `INSERT INTO comments (task_id, actor, body, at)
     SELECT i, 'person:bench', 'a comment on task ' || i, ${at('i')} FROM SERIES(${all}) WHERE i % 10 = 0`,
    // Event j belongs to task 1 + (j - 1) * all / events (so each task's events are together,
    // in creation order, as on a real board).
    `INSERT INTO events (board, task_id, run_id, actor, kind, payload, at)
     SELECT ${board.replaceAll('i >', 't >')}, t, NULL, 'person:bench', ${KIND}, '{"bench":true}', ${at('t')}
     FROM (SELECT i AS j, 1 + (i - 1) * ${all} / ${plan.events} AS t FROM SERIES(${plan.events})) s`,
  ];
}

/** Fills a SQLite warden database (the file `warden init` made). */
export function fillSqlite(file: string, plan: FillPlan): void {
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = OFF');
    const series = (n: string): string =>
      `(WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${n}) SELECT i FROM s)`;
    db.transaction(() => {
      for (const sql of statements(plan)) {
        db.exec(sql.replace(/SERIES\((\d+)\)/g, (_m, n: string) => series(n)));
      }
    })();
    // No ANALYZE: warden runs none, so the planner works without statistics, as it does for
    // a real home.
  } finally {
    db.close();
  }
}

/** Fills a PostgreSQL warden schema (the one `warden init` made). */
export async function fillPostgres(url: string, schema: string, plan: FillPlan): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`SET search_path TO "${schema}"`);
    await client.query('BEGIN');
    for (const sql of statements(plan)) {
      await client.query(
        sql.replace(
          /SERIES\((\d+)\)/g,
          (_m, n: string) => `generate_series(1::bigint, ${n}) AS g(i)`,
        ),
      );
    }
    // The ids were given explicitly: move the sequences past them.
    for (const table of ['tasks', 'runs', 'comments', 'events']) {
      await client.query(
        `SELECT setval(pg_get_serial_sequence('${table}', 'id'), (SELECT max(id) FROM ${table}))`,
      );
    }
    await client.query('COMMIT');
    await client.query('VACUUM ANALYZE');
  } finally {
    await client.end();
  }
}
