import { dispatcher } from '../../core/actor.js';
import { BREAKER_DEFAULTS } from '../../core/defaults.js';
import { formatDuration } from '../../core/duration.js';
import type { Decision } from '../../core/accounting.js';
import type { SqlDb } from './driver.js';
import { appendEvent } from './events.js';
import type { ProfileRow } from './rows.js';

function probeWait(trips: number): number {
  return Math.min(
    BREAKER_DEFAULTS.first_probe_after * 2 ** Math.max(0, trips - 1),
    BREAKER_DEFAULTS.max_probe_after,
  );
}

/**
 * The profile breaker (SPEC §3): `limit` failed runs in a row of one profile, over at least
 * two tasks, pause it; after a wait one probe run is admitted; success resumes the profile,
 * and after three failed probes it waits for a person.
 */
export async function accountBreaker(
  db: SqlDb,
  now: number,
  host: string,
  profile: ProfileRow,
  runId: number,
  taskId: number,
  decision: Decision,
  limit: number,
): Promise<void> {
  const actor = dispatcher(host);
  const isProbe = profile.breaker_probe_run === runId;
  const success = decision.verb === 'complete' || decision.verb === 'request_review';
  if (success) {
    // Most successes find the breaker closed and clean: no write, so concurrent completions of
    // one profile do not all contend for its row (PostgreSQL serialisation failures).
    const clean =
      !isProbe &&
      profile.breaker_failures === 0 &&
      profile.breaker_failed_probes === 0 &&
      profile.breaker_probe_run === null &&
      profile.breaker_tasks === '[]';
    if (!clean)
      await db.run(
        `UPDATE profiles SET breaker_failures = 0, breaker_tasks = '[]', breaker_failed_probes = 0, breaker_probe_run = NULL
       ${isProbe ? ', paused = 0, paused_by = NULL, paused_reason = NULL, breaker_probe_at = NULL, breaker_trips = 0' : ''}
       WHERE name = ?`,
        [profile.name],
      );
    if (isProbe) {
      await appendEvent(db, now, actor, {
        kind: 'profile_resumed',
        payload: { profile: profile.name, reason: `probe run ${runId} succeeded` },
      });
    }
    return;
  }
  if (!decision.failure) {
    if (isProbe)
      await db.run('UPDATE profiles SET breaker_probe_run = NULL WHERE name = ?', [profile.name]);
    return;
  }
  if (isProbe) {
    const failed = profile.breaker_failed_probes + 1;
    const waiting = failed >= BREAKER_DEFAULTS.max_failed_probes;
    const at = waiting ? null : now + probeWait(profile.breaker_trips + failed);
    const reason = waiting
      ? `breaker: ${failed} probe runs failed; waiting for a person (\`warden profile resume ${profile.name}\`)`
      : `breaker: probe run ${runId} failed; next probe at ${new Date(at ?? now).toISOString()}`;
    await db.run(
      'UPDATE profiles SET breaker_failed_probes = ?, breaker_probe_at = ?, breaker_probe_run = NULL, paused_reason = ? WHERE name = ?',
      [failed, at, reason, profile.name],
    );
    await appendEvent(db, now, actor, {
      kind: 'profile_paused',
      payload: { profile: profile.name, reason, failed_probes: failed, probe_run: runId, waiting },
    });
    return;
  }
  const tasks = [...new Set([...(JSON.parse(profile.breaker_tasks) as number[]), taskId])].slice(
    -20,
  );
  const failures = profile.breaker_failures + 1;
  const trip =
    profile.paused === 0 && failures >= limit && tasks.length >= BREAKER_DEFAULTS.min_tasks;
  if (!trip) {
    await db.run('UPDATE profiles SET breaker_failures = ?, breaker_tasks = ? WHERE name = ?', [
      failures,
      JSON.stringify(tasks),
      profile.name,
    ]);
    return;
  }
  const trips = profile.breaker_trips + 1;
  const wait = probeWait(trips);
  const reason = `breaker: ${failures} failed runs in a row over ${tasks.length} tasks (profile_breaker ${limit}); one probe run in ${formatDuration(wait)}`;
  await db.run(
    `UPDATE profiles SET paused = 1, paused_by = 'breaker', paused_reason = ?, breaker_failures = ?, breaker_tasks = ?,
       breaker_trips = ?, breaker_failed_probes = 0, breaker_probe_at = ?, breaker_probe_run = NULL, updated_at = ?
     WHERE name = ?`,
    [reason, failures, JSON.stringify(tasks), trips, now + wait, now, profile.name],
  );
  await appendEvent(db, now, actor, {
    kind: 'profile_paused',
    payload: { profile: profile.name, reason, failures, tasks, limit, probe_at: now + wait },
  });
}
