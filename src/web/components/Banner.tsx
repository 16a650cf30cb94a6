import type { Health } from '../api.js';

/** What stops work from starting, in one place at the top (SPEC §6). */
export function Banner({
  health,
  live,
  onResume,
}: {
  health: Health | null;
  live: boolean;
  /** Resumes a paused profile (the line's button). */
  onResume?: (profile: string) => void;
}) {
  if (!health) return null;
  const lines: string[] = [];
  if (health.board_paused)
    lines.push('This board is paused: no new runs start. Resume it with `warden board resume`.');
  else if (!health.dispatching)
    lines.push('No dispatcher is running for this board: ready tasks will not start.');
  const profiles = health.paused_profiles.map((p) => ({
    name: p.name,
    text: `Profile ${p.name} is paused${p.by === 'breaker' ? ' by its breaker' : ''}: ${p.reason ?? ''}; none of its tasks start.`,
  }));
  for (const k of health.kill_failed) {
    lines.push(
      `Run ${k.run_id} of task ${k.task_id} would not die (kill_failed); the task stays held.`,
    );
  }
  if (!live) lines.push('Live updates are reconnecting…');
  if (lines.length === 0 && profiles.length === 0) return null;
  return (
    <div class="banner" role="status" data-banner>
      {profiles.map((p) => (
        <p key={p.name} data-paused={p.name}>
          {p.text}{' '}
          {onResume && (
            <button data-action="resume" onClick={() => onResume(p.name)}>
              Resume
            </button>
          )}
        </p>
      ))}
      {lines.map((l) => (
        <p key={l}>{l}</p>
      ))}
    </div>
  );
}
