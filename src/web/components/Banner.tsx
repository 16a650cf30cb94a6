import type { Health } from '../api.js';

/** What stops work from starting, in one place at the top (SPEC §6). */
export function Banner({ health, live }: { health: Health | null; live: boolean }) {
  if (!health) return null;
  const lines: string[] = [];
  if (health.board_paused)
    lines.push('This board is paused: no new runs start. Resume it with `warden board resume`.');
  else if (!health.dispatching)
    lines.push('No dispatcher is running for this board: ready tasks will not start.');
  for (const p of health.paused_profiles) {
    lines.push(
      `Profile ${p.name} is paused${p.by === 'breaker' ? ' by its breaker' : ''}: ${p.reason ?? ''}`,
    );
  }
  for (const k of health.kill_failed) {
    lines.push(
      `Run ${k.run_id} of task ${k.task_id} would not die (kill_failed); the task stays held.`,
    );
  }
  if (!live) lines.push('Live updates are reconnecting…');
  if (lines.length === 0) return null;
  return (
    <div class="banner" role="status" data-banner>
      {lines.map((l) => (
        <p key={l}>{l}</p>
      ))}
    </div>
  );
}
