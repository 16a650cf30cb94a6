import type { Actor } from '../../core/actor.js';
import { formatActor } from '../../core/actor.js';
import { SCHEDULE_DEFAULTS } from '../../core/defaults.js';
import { WardenError, conflict, notFound } from '../../core/errors.js';
import type { CatchUp, NewSchedule, Schedule, ScheduleFiring } from '../../core/schedule.js';
import type { SqlDb } from './driver.js';
import { appendEvent } from './events.js';
import { createTask, requireProfile } from './tasks.js';
import { getBoard } from './boards.js';

// Schedules (issue #14). A firing is one transaction: it moves the schedule's next_at from the
// value it read to the next one (compare-and-set) and creates the task, so two hosts that see
// the same firing due make one task between them; the loser's update changes no row (SQLite:
// one writer at a time) or fails serialisation and, retried, finds the firing done.

interface ScheduleRow {
  name: string;
  board: string;
  cron: string;
  tz: string;
  catch_up: string;
  template: string;
  paused: number;
  next_at: number | null;
  last_fired_at: number | null;
  last_task_id: number | null;
  fired: number;
  skipped: number;
  created_by: string;
  created_at: number;
  updated_at: number;
}

function toSchedule(row: ScheduleRow): Schedule {
  return {
    name: row.name,
    board: row.board,
    cron: row.cron,
    tz: row.tz,
    catch_up: row.catch_up as CatchUp,
    template: JSON.parse(row.template) as Schedule['template'],
    paused: Number(row.paused) === 1,
    next_at: row.next_at === null ? null : Number(row.next_at),
    last_fired_at: row.last_fired_at === null ? null : Number(row.last_fired_at),
    last_task_id: row.last_task_id === null ? null : Number(row.last_task_id),
    fired: Number(row.fired),
    skipped: Number(row.skipped),
    created_by: row.created_by,
    created_at: Number(row.created_at),
    updated_at: Number(row.updated_at),
  };
}

async function scheduleRow(db: SqlDb, name: string): Promise<ScheduleRow> {
  const row = await db.get<ScheduleRow>('SELECT * FROM schedules WHERE name = ?', [name]);
  if (!row) {
    throw notFound(`schedule '${name}' does not exist; see \`warden schedule list\``, {
      schedule: name,
    });
  }
  return row;
}

/** One schedule, or `not_found`. */
export async function getSchedule(db: SqlDb, name: string): Promise<Schedule> {
  return toSchedule(await scheduleRow(db, name));
}

/** Every schedule (of one board), by name. */
export async function listSchedules(db: SqlDb, board?: string): Promise<Schedule[]> {
  // An unknown board is a mistake to say, as every other reading of a board says it.
  if (board !== undefined) await getBoard(db, board);
  const rows =
    board === undefined
      ? await db.all<ScheduleRow>('SELECT * FROM schedules ORDER BY name')
      : await db.all<ScheduleRow>('SELECT * FROM schedules WHERE board = ? ORDER BY name', [board]);
  return rows.map(toSchedule);
}

/** Adds a schedule (see `Store.addSchedule`). */
export async function addSchedule(
  db: SqlDb,
  now: number,
  raw: NewSchedule,
  actor: Actor,
): Promise<Schedule> {
  // zod and croner are loaded by the writes that need them, never by `warden list`.
  const [{ parseInput }, { newScheduleSchema }, { checkCron }] = await Promise.all([
    import('../../core/validate.js'),
    import('../../core/schedule.js'),
    import('../../core/cron.js'),
  ]);
  const input = parseInput(newScheduleSchema, raw, 'schedule');
  const tz = input.tz ?? SCHEDULE_DEFAULTS.tz;
  const nextAt = checkCron(input.cron, tz, now);
  const board = input.board ?? 'default';
  if (!(await db.get('SELECT name FROM boards WHERE name = ?', [board]))) {
    throw notFound(`board '${board}' does not exist; add it with \`warden board add ${board}\``, {
      board,
    });
  }
  if (input.template.assignee) await requireProfile(db, input.template.assignee);
  const template = {
    title: input.template.title,
    body: input.template.body ?? '',
    assignee: input.template.assignee ?? null,
    priority: input.template.priority ?? 0,
  };
  const catchUp = input.catch_up ?? SCHEDULE_DEFAULTS.catch_up;
  const held = await db.get<ScheduleRow>('SELECT * FROM schedules WHERE name = ?', [input.name]);
  if (held) {
    // The same schedule again (an add retried after its answer was lost) is the one there;
    // another under the name is a conflict.
    const same =
      held.board === board &&
      held.cron === input.cron.trim() &&
      held.tz === tz &&
      held.catch_up === catchUp &&
      held.template === JSON.stringify(template);
    if (same) return toSchedule(held);
    throw conflict(
      `schedule '${input.name}' already exists; remove it first or choose another name`,
    );
  }
  await db.run(
    `INSERT INTO schedules (name, board, cron, tz, catch_up, template, paused, next_at, created_by, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?)`,
    [
      input.name,
      board,
      input.cron.trim(),
      tz,
      catchUp,
      JSON.stringify(template),
      nextAt,
      formatActor(actor),
      now,
      now,
    ],
  );
  await appendEvent(db, now, actor, {
    kind: 'schedule_added',
    board,
    payload: {
      schedule: input.name,
      cron: input.cron.trim(),
      tz,
      catch_up: catchUp,
      next_at: nextAt,
    },
  });
  return getSchedule(db, input.name);
}

/**
 * Pauses or resumes a schedule. A resumed schedule waits for its first firing after now: the
 * firings of the pause are neither made nor counted as missed.
 */
export async function setSchedulePaused(
  db: SqlDb,
  now: number,
  name: string,
  paused: boolean,
  actor: Actor,
): Promise<Schedule> {
  const row = await scheduleRow(db, name);
  if ((Number(row.paused) === 1) === paused) return toSchedule(row);
  let nextAt = row.next_at;
  if (!paused) {
    const { nextFiring } = await import('../../core/cron.js');
    nextAt = nextFiring(row.cron, row.tz, now);
  }
  await db.run('UPDATE schedules SET paused = ?, next_at = ?, updated_at = ? WHERE name = ?', [
    paused ? 1 : 0,
    nextAt,
    now,
    name,
  ]);
  await appendEvent(db, now, actor, {
    kind: paused ? 'schedule_paused' : 'schedule_resumed',
    board: row.board,
    payload: { schedule: name, next_at: nextAt },
  });
  return getSchedule(db, name);
}

/** Removes a schedule; the tasks it made stay. */
export async function removeSchedule(
  db: SqlDb,
  now: number,
  name: string,
  actor: Actor,
): Promise<void> {
  const row = await scheduleRow(db, name);
  await db.run('DELETE FROM schedules WHERE name = ?', [name]);
  await appendEvent(db, now, actor, {
    kind: 'schedule_removed',
    board: row.board,
    payload: { schedule: name, fired: Number(row.fired), skipped: Number(row.skipped) },
  });
}

/** The names of the schedules due at `now` (a read, asked every tick). */
export async function dueSchedules(db: SqlDb, now: number): Promise<string[]> {
  const rows = await db.all<{ name: string }>(
    'SELECT name FROM schedules WHERE paused = 0 AND next_at IS NOT NULL AND next_at <= ? ORDER BY next_at, name LIMIT 100',
    [now],
  );
  return rows.map((r) => r.name);
}

/**
 * Fires one schedule if it is still due: plans the firing (`core/cron.ts`), advances next_at
 * by compare-and-set, creates the task, and writes `schedule_fired` and `schedule_skipped`.
 * Null when another host fired it first. A template that can no longer make a task (its
 * profile was removed) skips the firing with the reason, so one schedule never stalls the tick.
 */
export async function fireSchedule(
  db: SqlDb,
  now: number,
  name: string,
  actor: Actor,
): Promise<ScheduleFiring | null> {
  const row = await db.get<ScheduleRow>('SELECT * FROM schedules WHERE name = ?', [name]);
  if (!row || Number(row.paused) === 1 || row.next_at === null || Number(row.next_at) > now) {
    return null;
  }
  const { planFiring } = await import('../../core/cron.js');
  const s = toSchedule(row);
  const plan = planFiring({ ...s, next_at: Number(row.next_at) }, now);
  const moved = await db.run(
    'UPDATE schedules SET next_at = ?, updated_at = ? WHERE name = ? AND next_at = ? AND paused = 0',
    [plan.next_at, now, name, row.next_at],
  );
  if (moved !== 1) return null;
  let taskId: number | null = null;
  let refused: string | null = null;
  if (plan.fire_at !== null) {
    const at = new Date(plan.fire_at).toISOString();
    try {
      const task = await createTask(
        db,
        now,
        {
          board: s.board,
          title: s.template.title,
          body: s.template.body,
          assignee: s.template.assignee,
          priority: s.template.priority,
          idempotency_key: `schedule:${name}:${at}`,
        },
        actor,
      );
      taskId = task.id;
    } catch (err) {
      // Refusals come before createTask writes anything; anything else aborts the firing.
      if (!(err instanceof WardenError)) throw err;
      refused = err.message;
    }
  }
  const skipped = plan.missed > 0 && s.catch_up === 'skip' ? plan.missed : 0;
  const notMade = taskId === null && plan.fire_at !== null ? 1 : 0;
  await db.run(
    `UPDATE schedules SET fired = fired + ?, skipped = skipped + ?, last_fired_at = COALESCE(?, last_fired_at),
       last_task_id = COALESCE(?, last_task_id) WHERE name = ?`,
    [taskId === null ? 0 : 1, skipped + notMade, taskId === null ? null : now, taskId, name],
  );
  if (taskId !== null) {
    await appendEvent(db, now, actor, {
      kind: 'schedule_fired',
      board: s.board,
      task_id: taskId,
      payload: {
        schedule: name,
        fire_at: plan.fire_at,
        late_ms: now - (plan.fire_at ?? now),
        // `once`: the missed firings this one task stands for.
        covers: s.catch_up === 'once' ? plan.missed : 0,
        more: s.catch_up === 'once' && plan.more,
        next_at: plan.next_at,
      },
    });
  }
  if (skipped + notMade > 0) {
    await appendEvent(db, now, actor, {
      kind: 'schedule_skipped',
      board: s.board,
      payload: {
        schedule: name,
        skipped: skipped + notMade,
        more: plan.more && s.catch_up === 'skip',
        first_at: Number(row.next_at),
        reason: refused ?? `missed while no serve ran (catch-up ${s.catch_up})`,
        next_at: plan.next_at,
      },
    });
  }
  return {
    schedule: name,
    task_id: taskId,
    fire_at: taskId === null ? null : plan.fire_at,
    missed: plan.missed,
    next_at: plan.next_at,
  };
}
