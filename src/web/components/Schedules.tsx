import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import type { Schedule } from '../../core/schedule.js';
import { until } from '../format.js';

interface Props {
  board: string;
  /** Loaded again at each change of it; null until the page's first load. */
  version: number | null;
  now: number;
  onError: (err: unknown) => void;
}

/** When a schedule fires next, in words. */
function nextFiring(s: Schedule, now: number): string {
  if (s.paused) return 'paused';
  if (s.next_at === null) return 'never again';
  return `in ${until(now, s.next_at)}`;
}

const EMPTY_FORM = { name: '', cron: '', title: '', assignee: '', board: '' };

/**
 * Adding a schedule (`POST /api/v1/schedules`): name, cron, the task's title and assignee, and
 * a board (this one when left empty). The server checks it all; its refusal is shown as is,
 * beside the form, and the fields stay to be corrected.
 */
function AddSchedule({ board, onAdded }: { board: string; onAdded: () => void }) {
  const [form, setForm] = useState(EMPTY_FORM);
  const [error, setError] = useState<string | null>(null);
  const field = (key: keyof typeof EMPTY_FORM, placeholder: string) => (
    <input
      name={`schedule-${key}`}
      aria-label={`schedule ${key}`}
      placeholder={placeholder}
      value={form[key]}
      onInput={(e) => setForm({ ...form, [key]: e.currentTarget.value })}
    />
  );
  return (
    <details class="add-schedule" open={error !== null || undefined}>
      <summary>Add schedule</summary>
      <form
        aria-label="add a schedule"
        data-add-schedule
        onSubmit={(e) => {
          e.preventDefault();
          const assignee = form.assignee.trim();
          void api
            .addSchedule({
              name: form.name.trim(),
              board: form.board.trim() || board,
              cron: form.cron.trim(),
              template: { title: form.title, ...(assignee ? { assignee } : {}) },
            })
            .then(() => {
              setError(null);
              setForm(EMPTY_FORM);
              onAdded();
            })
            .catch((err: unknown) => setError(err instanceof Error ? err.message : String(err)));
        }}
      >
        {field('name', 'name (nightly)')}
        {field('cron', 'cron (0 3 * * *)')}
        {field('title', 'title of each task')}
        {field('assignee', 'assignee (profile)')}
        {field('board', `board (${board})`)}
        <button type="submit" class="primary">
          Add
        </button>
      </form>
      {error && (
        <p class="schedule-error" role="alert" data-schedule-error>
          {error}
        </p>
      )}
    </details>
  );
}

/**
 * The board's schedules (issue #14): name, expression, next firing, a button to pause or
 * resume each and one to remove it (after a confirm); read again whenever the board changes.
 * Under them, a form to add one.
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
  useEffect(() => {
    if (version !== null) void load();
  }, [board, version]);
  const remove = (name: string): void => {
    if (!window.confirm(`Remove the schedule ${name}? The tasks it created stay.`)) return;
    void api.removeSchedule(name).then(load).catch(onError);
  };
  return (
    <section class="schedules" aria-label="schedules" data-schedules>
      <h2>Schedules</h2>
      {list.length > 0 && (
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
                  </button>{' '}
                  <button data-action="remove-schedule" onClick={() => remove(s.name)}>
                    Remove
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <AddSchedule board={board} onAdded={() => void load()} />
    </section>
  );
}
