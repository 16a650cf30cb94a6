import { Cron } from 'croner';
import { SCHEDULE_DEFAULTS } from './defaults.js';
import { invalid } from './errors.js';
import type { EpochMs } from './glossary.js';
import type { CatchUp } from './schedule.js';

// Cron expressions through croner (docs/architecture.md says why), read only here: the rest of
// warden sees epoch milliseconds.

const NICKNAMES = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@hourly'];

function pattern(expr: string, tz: string): Cron {
  return new Cron(expr, { timezone: tz, paused: true });
}

/**
 * Checks a cron expression and a time zone, and returns the first firing after `now`. Five
 * fields (minute, hour, day of month, month, day of week) or a nickname (`@daily`): a
 * schedule creates a task per firing, so seconds are not offered. An expression that never
 * fires (`0 0 30 2 *`) is refused too. Throws `invalid` with one line naming the problem.
 */
export function checkCron(expr: string, tz: string, now: EpochMs): EpochMs {
  const fields = expr.trim().split(/\s+/);
  const nickname = fields.length === 1 && NICKNAMES.includes(fields[0]?.toLowerCase() ?? '');
  if (!nickname && fields.length !== 5) {
    throw invalid(
      `cron: '${expr}' is not a cron expression: give five fields (minute hour day-of-month month day-of-week), like '0 9 * * MON-FRI', or @hourly, @daily, @weekly, @monthly, @yearly`,
    );
  }
  let next: EpochMs | null;
  try {
    Intl.DateTimeFormat(undefined, { timeZone: tz });
  } catch {
    throw invalid(`tz: '${tz}' is not a time zone; use an IANA name like UTC or Europe/Oslo`);
  }
  try {
    next = nextFiring(expr, tz, now);
  } catch (err) {
    const why = (err as Error).message.replace(/^CronPattern: /, '');
    throw invalid(`cron: '${expr}' is not a cron expression: ${why}`);
  }
  if (next === null) throw invalid(`cron: '${expr}' never fires`);
  return next;
}

/** The first firing of an expression strictly after `after`, or null when there is none. */
export function nextFiring(expr: string, tz: string, after: EpochMs): EpochMs | null {
  const next = pattern(expr, tz).nextRun(new Date(after));
  return next === null ? null : next.getTime();
}

/** What a firing pass does with one due schedule. */
export interface FiringPlan {
  /** The firing the one task stands for, or null when none is made (all skipped). */
  fire_at: EpochMs | null;
  /** Missed firings: skipped (`skip`) or covered by the one task (`once`). */
  missed: number;
  /** Whether there were more missed firings than were counted (`SCHEDULE_DEFAULTS.count_max`). */
  more: boolean;
  /** The firing after now, to store as the schedule's next. */
  next_at: EpochMs | null;
}

/**
 * Plans the firing of a schedule whose `next_at` is at or before `now`. The latest due firing
 * is on time when less than `lateAfterMs` old; every other due firing was missed. `skip` makes
 * a task for the on-time firing only; `once` makes one task for the latest firing, standing
 * for the missed ones too. Either way the schedule then waits for its first firing after now.
 */
export function planFiring(
  s: { cron: string; tz: string; catch_up: CatchUp; next_at: EpochMs },
  now: EpochMs,
  lateAfterMs: number = SCHEDULE_DEFAULTS.late_after_ms,
): FiringPlan {
  const cron = pattern(s.cron, s.tz);
  let latest = s.next_at;
  let due = 1;
  let more = false;
  for (;;) {
    const next = cron.nextRun(new Date(latest));
    if (next === null || next.getTime() > now) break;
    if (due >= SCHEDULE_DEFAULTS.count_max) {
      more = true;
      break;
    }
    latest = next.getTime();
    due += 1;
  }
  const onTime = !more && now - latest < lateAfterMs;
  const nextAfterNow = cron.nextRun(new Date(now));
  const next_at = nextAfterNow === null ? null : nextAfterNow.getTime();
  if (s.catch_up === 'once') return { fire_at: latest, missed: due - 1, more, next_at };
  return onTime
    ? { fire_at: latest, missed: due - 1, more, next_at }
    : { fire_at: null, missed: due, more, next_at };
}
