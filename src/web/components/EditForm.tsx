import { useState } from 'preact/hooks';
import { api } from '../api.js';
import type { TaskDetail } from '../api.js';

interface Props {
  task: TaskDetail;
  /** Runs a request, then loads the drawer again; a refusal goes to the page's message. */
  act: (work: () => Promise<unknown>) => Promise<void>;
  onSaved: () => void;
}

type Field = 'title' | 'assignee' | 'priority' | 'body';
type Fields = Record<Field, string>;
const FIELDS: readonly Field[] = ['title', 'assignee', 'priority', 'body'];

function fieldsOf(task: TaskDetail): Fields {
  return {
    title: task.title,
    assignee: task.assignee ?? '',
    priority: String(task.priority),
    body: task.body,
  };
}

function patchOf(draft: Fields, fields: readonly Field[]): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  for (const f of fields) {
    if (f === 'priority') patch.priority = Number(draft.priority) || 0;
    else if (f === 'assignee')
      patch.assignee = draft.assignee.trim() === '' ? null : draft.assignee.trim();
    else patch[f] = draft[f];
  }
  return patch;
}

/**
 * A task's edit form in the drawer. It sends only the fields the person changed, so a change
 * someone else made meanwhile to another field is kept (a trial's Save of a title put back the
 * priority another person had just set); a field the person changed that someone else changed
 * too since the form opened is said, and replaced only at a second Save. A field the person
 * has not touched shows the task as it is now.
 */
export function EditForm({ task, act, onSaved }: Props) {
  const now = fieldsOf(task);
  // What each field held when the person began with it; a field not begun follows the task.
  const [base, setBase] = useState<Fields>(now);
  const [draft, setDraft] = useState<Fields>(now);
  const [warned, setWarned] = useState<Field[]>([]);
  const touched = FIELDS.filter((f) => draft[f] !== base[f]);
  const shown = (f: Field): string => (touched.includes(f) ? draft[f] : now[f]);
  const edit = (f: Field, value: string): void => {
    if (!touched.includes(f)) setBase((b) => ({ ...b, [f]: now[f] }));
    setDraft((d) => ({ ...d, [f]: value }));
  };
  const field = (f: Field, label: string, input: 'input' | 'number' | 'textarea') => {
    const props = {
      name: f,
      value: shown(f),
      onInput: (e: { currentTarget: { value: string } }) => edit(f, e.currentTarget.value),
    };
    return (
      <label>
        {label}
        {input === 'textarea' ? (
          <textarea {...props} />
        ) : input === 'number' ? (
          <input {...props} type="number" />
        ) : (
          <input {...props} type="text" />
        )}
      </label>
    );
  };
  return (
    <form
      class="edit"
      data-edit
      onSubmit={(e) => {
        e.preventDefault();
        const theirs = touched.filter((f) => now[f] !== base[f]);
        if (theirs.length > 0) {
          // Said once; the next Save replaces their value with the person's.
          setBase((b) => ({ ...b, ...Object.fromEntries(theirs.map((f) => [f, now[f]])) }));
          setWarned(theirs);
          return;
        }
        if (touched.length === 0) return onSaved();
        void act(async () => {
          await api.edit(task.id, patchOf(draft, touched));
          onSaved();
        });
      }}
    >
      {warned.length > 0 && (
        <p class="warn" role="alert" data-edit-conflict>
          Changed by someone else since you began: {warned.join(', ')} (now{' '}
          {warned.map((f) => `“${now[f]}”`).join(', ')}). Save again to replace it with yours.
        </p>
      )}
      {field('title', 'Title', 'input')}
      {field('assignee', 'Assignee (a profile; empty for none)', 'input')}
      {field('priority', 'Priority', 'number')}
      {field('body', 'Details', 'textarea')}
      <button type="submit">Save</button>
    </form>
  );
}
