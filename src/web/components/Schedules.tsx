import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import type { Schedule } from '../../core/schedule.js';
import { until } from '../format.js';

interface Props {
  board: string;
  version: number;
  now: number;
  onError: (err: unknown) => void;
}

/** When a schedule fires next, in words. */
function nextFiring(s: Schedule, now: number): string {
  if (s.paused) return 'paused';
  if (s.next_at === null) return 'never again';
  return `in ${until(now, s.next_at)}`;
}

/**
 * The board's schedules (issue #14): name, expression, next firing, and a button to pause or
 * resume each; read again whenever the board changes. Nothing when the board has none.
 */
export function Schedules({ board, version, now, onError }: Props) {
  const [list, setList] = useState<Schedule[]>([]);
  const load = async (): Promise<void> => {
    try {
      setList((await api.schedules(board)).schedules);
    } catch (err) {
      onError(err);
    }
  };
  useEffect(() => void load(), [board, version]);
  if (list.length === 0) return null;
  return (
    <section class="schedules" aria-label="schedules" data-schedules>
      <h2>Schedules</h2>
      <table>
        <thead>
          <tr>
            <th>name</th>
            <th>cron</th>
            <th>next</th>
            <th>creates</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {list.map((s) => (
            <tr key={s.name} data-schedule={s.name} data-paused={s.paused ? '1' : '0'}>
              <td>{s.name}</td>
              <td>
                <code>{s.cron}</code>
                {s.tz !== 'UTC' ? ` (${s.tz})` : ''}
              </td>
              <td title={s.next_at === null ? '' : new Date(s.next_at).toISOString()}>
                {nextFiring(s, now)}
              </td>
              <td>
                {s.template.title}
                {s.template.assignee ? ` @${s.template.assignee}` : ''}
                {s.fired > 0 ? ` · ${s.fired} made` : ''}
              </td>
              <td>
                <button
                  onClick={() =>
                    void api.pauseSchedule(s.name, !s.paused).then(load).catch(onError)
                  }
                >
                  {s.paused ? 'Resume' : 'Pause'}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
