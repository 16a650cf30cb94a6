import { useState } from 'preact/hooks';

interface Props {
  onCreate: (title: string, body: string, assignee: string, priority: number) => Promise<void>;
}

/** A new task. The server checks everything; its one-line refusal is shown as it is. */
export function CreateForm({ onCreate }: Props) {
  const [title, setTitle] = useState('');
  const [body, setBody] = useState('');
  const [assignee, setAssignee] = useState('');
  const [priority, setPriority] = useState('0');
  return (
    <form
      class="create"
      aria-label="create a task"
      onSubmit={(e) => {
        e.preventDefault();
        // A refusal is shown by the page (onCreate's caller); the form keeps what was typed.
        void onCreate(title, body, assignee.trim(), Number(priority) || 0).then(
          () => {
            setTitle('');
            setBody('');
          },
          () => undefined,
        );
      }}
    >
      <input
        name="title"
        aria-label="title"
        placeholder="New task title"
        value={title}
        onInput={(e) => setTitle(e.currentTarget.value)}
      />
      <input
        name="assignee"
        aria-label="assignee"
        placeholder="assignee (profile)"
        value={assignee}
        onInput={(e) => setAssignee(e.currentTarget.value)}
      />
      <input
        name="priority"
        type="number"
        aria-label="priority"
        value={priority}
        onInput={(e) => setPriority(e.currentTarget.value)}
      />
      <textarea
        name="body"
        aria-label="details"
        placeholder="Details (optional)"
        value={body}
        onInput={(e) => setBody(e.currentTarget.value)}
      />
      <button type="submit">Create</button>
    </form>
  );
}
