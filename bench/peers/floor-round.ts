/**
 * The one statement of a worker's round in the "server-side" design issue #16 asks about,
 * reduced to its writes: a floor to set beside warden's pull mode and the peers, not warden.
 *
 * It writes what warden's pull round writes to warden's own tables (its real schema, every
 * index): for each finished run, the run closed, its task moved to `done` and two events
 * (`run_ended`, `task_done`); for each claim, a ready task picked in claim order, a run
 * inserted with a fresh token's hash, the task moved to `running` and one event
 * (`run_started`). It leaves out everything else a round does: no fence beyond the run's state,
 * no admission (caps, groups, breakers, reviews), no accounting, no children promoted, no
 * worker context, no lease, no notice. One statement and its own commit: a faster round cannot
 * be built on these tables.
 *
 * `$1` finished runs' tokens, `$2` the worker, `$3` now (ms), `$4` most runs to claim.
 * Answers one row, `claims`: a JSON array of `{ run_id, task_id, token }`.
 */
export const FLOOR_ROUND = `
WITH done AS (
  UPDATE runs SET state = 'ended', outcome = 'success', ended_at = $3, used_protocol = 1,
      result_summary = ''
    WHERE token_hash = ANY(SELECT encode(sha256(convert_to(x, 'UTF8')), 'hex')
        FROM unnest($1::text[]) AS x)
      AND state = 'running'
    RETURNING id, task_id, board),
closed AS (
  UPDATE tasks SET status = 'done', result_summary = '', updated_at = $3
    FROM done WHERE tasks.id = done.task_id AND tasks.current_run_id = done.id
    RETURNING tasks.id),
ended AS (
  INSERT INTO events (board, task_id, run_id, actor, kind, payload, at)
    SELECT d.board, d.task_id, d.id, 'dispatcher:floor', k.kind, '{}', $3
    FROM done d CROSS JOIN (VALUES ('run_ended'), ('task_done')) AS k(kind)),
picked AS (
  -- Read twice below (the runs' insert and the answer): a CTE with FOR UPDATE is computed
  -- once, so the token answered is the one whose hash is stored.
  SELECT t.id, t.board, t.attempts,
      'wrun_' || md5(random()::text || clock_timestamp()::text || t.id::text) AS token
    FROM tasks t
    WHERE t.status = 'ready' AND t.assignee IS NOT NULL
    ORDER BY t.priority DESC, t.id LIMIT $4 FOR UPDATE SKIP LOCKED),
made AS (
  INSERT INTO runs (task_id, board, attempt, state, mode, token_hash, worker_id, profile,
      profile_version, started_at, role)
    SELECT p.id, p.board, p.attempts + 1, 'running', 'pull',
      encode(sha256(convert_to(p.token, 'UTF8')), 'hex'), $2, 'noop', 1, $3, 'work'
    FROM picked p
    RETURNING id, task_id, board, attempt),
moved AS (
  UPDATE tasks SET status = 'running', current_run_id = made.id, attempts = made.attempt,
      updated_at = $3
    FROM made WHERE tasks.id = made.task_id),
started AS (
  INSERT INTO events (board, task_id, run_id, actor, kind, payload, at)
    SELECT m.board, m.task_id, m.id, 'dispatcher:floor', 'run_started', '{}', $3 FROM made m)
SELECT COALESCE(json_agg(json_build_object('run_id', m.id, 'task_id', m.task_id,
    'token', p.token)), '[]') AS claims
  FROM made m JOIN picked p ON p.id = m.task_id`;

/** A claim the floor's round hands out. */
export interface FloorClaim {
  run_id: number;
  task_id: number;
  token: string;
}
