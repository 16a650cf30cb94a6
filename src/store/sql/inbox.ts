import type {
  InboxFacts,
  InboxHeldFact,
  InboxHostFact,
  InboxProfileFact,
  InboxTaskFact,
} from '../../core/inbox.js';
import { LOST_HOST_WINDOW_MS } from '../../core/inbox.js';
import type { BlockKind } from '../../core/status.js';
import type { SqlDb } from './driver.js';
import { idIn } from './id-list.js';
import { storeNow } from './hosts.js';

/**
 * The facts of the attention inbox (issue #15), read in one snapshot: tasks that wait for a
 * person, paused profiles, runs held by processes that would not die, hosts lost.
 */

/**
 * Tasks a person must move: blocked (but not `transient`, which clears itself), in review with
 * no reviewer profile, or behind an approval gate not yet approved. Three statements, each on
 * the board's status index: one OR across them made SQLite scan the whole board.
 */
const WAITS_FOR_A_PERSON = [
  "board = ? AND status = 'blocked' AND (block_kind IS NULL OR block_kind <> 'transient')",
  "board = ? AND status = 'review' AND review_by IS NULL",
  "board = ? AND status IN ('triage', 'todo', 'ready') AND needs_approval <> 0 AND approved_at IS NULL",
];

/** What the inbox reads of a task (never its body). */
const TASK_COLUMNS =
  'id, title, status, assignee, block_kind, block_rule, block_reason, failures, needs_approval, updated_at';

interface TaskFactRow {
  id: number;
  title: string;
  status: string;
  assignee: string | null;
  block_kind: string | null;
  block_rule: string | null;
  block_reason: string | null;
  failures: number;
  needs_approval: number;
  updated_at: number;
  /** How many rows the statement matched, whatever its limit. */
  n: number | string;
}

/** The open questions of these tasks, the newest of each. */
async function openQuestions(
  db: SqlDb,
  ids: readonly number[],
): Promise<Map<number, { question: string; asked_at: number }>> {
  const found = new Map<number, { question: string; asked_at: number }>();
  if (ids.length === 0) return found;
  const among = idIn(db, 'task_id', ids);
  const rows = await db.all<{ task_id: number; question: string; asked_at: number }>(
    `SELECT task_id, question, asked_at FROM questions
     WHERE ${among.sql} AND answer IS NULL ORDER BY id`,
    [among.param],
  );
  for (const r of rows) found.set(Number(r.task_id), r);
  return found;
}

/**
 * The newest `limit` tasks that wait for a person, and how many there are: each kind of wait
 * read once, with its count beside its rows (`COUNT(*) OVER ()`), then merged.
 */
async function taskFacts(
  db: SqlDb,
  board: string,
  limit: number,
): Promise<{ tasks: InboxTaskFact[]; total: number }> {
  let total = 0;
  const rows: TaskFactRow[] = [];
  for (const where of WAITS_FOR_A_PERSON) {
    const part = await db.all<TaskFactRow>(
      `SELECT ${TASK_COLUMNS}, COUNT(*) OVER () AS n FROM tasks WHERE ${where}
       ORDER BY updated_at DESC, id DESC LIMIT ?`,
      [board, limit],
    );
    total += Number(part[0]?.n ?? 0);
    rows.push(...part);
  }
  rows.sort((a, b) => Number(b.updated_at) - Number(a.updated_at) || b.id - a.id);
  const shown = rows.slice(0, limit);
  const questions = await openQuestions(
    db,
    shown.filter((r) => r.block_rule === 'question').map((r) => r.id),
  );
  const tasks = shown.map((r) => {
    const q = questions.get(r.id);
    return {
      id: Number(r.id),
      title: r.title,
      status: r.status,
      assignee: r.assignee,
      block_kind: r.block_kind as BlockKind | null,
      block_rule: r.block_rule,
      block_reason: r.block_reason,
      failures: Number(r.failures),
      needs_approval: Number(r.needs_approval) !== 0,
      question: q?.question ?? null,
      since: Number(q?.asked_at ?? r.updated_at),
    };
  });
  return { tasks, total };
}

async function pausedProfiles(db: SqlDb): Promise<InboxProfileFact[]> {
  const rows = await db.all<{
    name: string;
    paused_by: string | null;
    paused_reason: string | null;
    breaker_probe_at: number | null;
    updated_at: number;
  }>(
    'SELECT name, paused_by, paused_reason, breaker_probe_at, updated_at FROM profiles WHERE paused <> 0 ORDER BY name',
  );
  return rows.map((r) => ({
    name: r.name,
    paused_by: r.paused_by,
    paused_reason: r.paused_reason,
    probe_at: r.breaker_probe_at === null ? null : Number(r.breaker_probe_at),
    since: Number(r.updated_at),
  }));
}

/**
 * Runs still `ending` whose process group survived SIGKILL: read from the few ending runs, then
 * each one's first `kill_failed` event (by task, which is indexed), never by scanning events.
 */
async function heldRuns(db: SqlDb, board: string): Promise<InboxHeldFact[]> {
  const ending = await db.all<{
    id: number;
    task_id: number;
    host_id: string | null;
    title: string;
  }>(
    `SELECT r.id, r.task_id, r.host_id, t.title FROM runs r JOIN tasks t ON t.id = r.task_id
     WHERE r.state = 'ending' AND t.board = ? ORDER BY r.id`,
    [board],
  );
  const held: InboxHeldFact[] = [];
  for (const r of ending) {
    const first = await db.get<{ at: number; payload: string }>(
      "SELECT at, payload FROM events WHERE task_id = ? AND run_id = ? AND kind = 'kill_failed' ORDER BY id LIMIT 1",
      [r.task_id, r.id],
    );
    if (!first) continue;
    const payload = JSON.parse(first.payload) as { pgid?: unknown };
    held.push({
      run_id: Number(r.id),
      task_id: Number(r.task_id),
      title: r.title,
      host: r.host_id,
      pgid: typeof payload.pgid === 'number' ? payload.pgid : null,
      since: Number(first.at),
    });
  }
  return held;
}

/**
 * Hosts whose lease lapsed within the window and that have not renewed since: not reaped yet
 * (no stop recorded) or reaped (stopped at or after the lapse). A `serve` that stopped cleanly
 * did so with its lease still good, so it is not here.
 */
async function lostHosts(db: SqlDb, local: number): Promise<InboxHostFact[]> {
  const now = await storeNow(db, local);
  const rows = await db.all<{
    host_id: string;
    lease_expires_at: number;
    stopped_at: number | null;
    runs: number | string;
  }>(
    `SELECT h.host_id, h.lease_expires_at, h.stopped_at,
       (SELECT COUNT(*) FROM runs r WHERE r.host_id = h.host_id AND r.outcome = 'host_lost'
          AND r.ended_at >= h.lease_expires_at) AS runs
     FROM hosts h
     WHERE h.lease_expires_at IS NOT NULL AND h.lease_expires_at <= ? AND h.lease_expires_at > ?
       AND (h.stopped_at IS NULL OR h.stopped_at >= h.lease_expires_at)
     ORDER BY h.host_id`,
    [now, now - LOST_HOST_WINDOW_MS],
  );
  return rows.map((r) => ({
    host_id: r.host_id,
    since: Number(r.lease_expires_at),
    reaped: r.stopped_at !== null,
    runs: Number(r.runs),
  }));
}

/** The inbox's facts for one board; at most `limit` tasks, with the count of all of them. */
export async function inboxFacts(
  db: SqlDb,
  local: number,
  board: string,
  limit: number,
): Promise<InboxFacts> {
  const { tasks, total } = await taskFacts(db, board, limit);
  return {
    tasks,
    task_total: total,
    profiles: await pausedProfiles(db),
    held: await heldRuns(db, board),
    hosts: await lostHosts(db, local),
  };
}
