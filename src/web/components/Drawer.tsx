import { useEffect, useRef, useState } from 'preact/hooks';
import {
  describeReason,
  describeRun,
  describeTaskState,
  sumUsage,
  unpricedNote,
  usageLine,
} from '../../core/describe.js';
import type { WardenEvent } from '../../core/events.js';
import { ApiError, api } from '../api.js';
import type { TaskDetail } from '../api.js';
import { ago, awaitsApproval } from '../format.js';
import { findTransition } from '../../core/transitions.js';
import { evidenceLine } from '../../core/worktree.js';
import { EditForm } from './EditForm.js';
import { QuestionReply, ReviewActions } from './Replies.js';
import type { AnswerDraft } from './Replies.js';
import { RunLog } from './RunLog.js';
import { Timeline } from './Timeline.js';
import { Worktree } from './Worktree.js';

interface Props {
  id: number;
  now: number;
  version: number;
  onOpen: (id: number) => void;
  onClose: () => void;
  onError: (err: unknown) => void;
  /** An action succeeded: a refusal shown for an earlier one is out of date. */
  onDone: () => void;
}

/**
 * Whether a person may `verb` a task now, by the one transition table (SPEC §2): buttons as
 * well as drags, so a keyboard can do it. A task in review has its Review box instead of Done.
 */
function personMay(verb: 'block' | 'done', task: TaskDetail): boolean {
  const to = verb === 'done' ? 'done' : 'blocked';
  if (task.current_run_id !== null || (verb === 'done' && task.status === 'review')) return false;
  return findTransition(verb, task.status, to, 'person') !== undefined;
}

/**
 * Whether to go on with an unblock or retry: a task blocked on its worker's question asks the
 * person first, since the answer box beside the button is what usually clears it; one blocked
 * by its spent budget says it blocks again unless the budget is raised.
 */
function movesPastQuestion(task: TaskDetail): boolean {
  if (task.status !== 'blocked') return true;
  if (task.block_rule === 'budget') {
    // A trial's Unblock ran at once, made one more model request, and was blocked again.
    return confirm(
      `Task #${task.id}'s budget is spent (${task.block_reason ?? 'budget'}). Unblocked as it is, its next model request blocks it again: raise the budget first (\`warden profile edit ${task.assignee ?? 'PROFILE'} --max-cost-per-task USD\`, or the option its reason names). Unblock anyway?`,
    );
  }
  if (task.block_rule !== 'question') return true;
  return confirm(
    `Put task #${task.id} back in line without answering its question? Its next attempt is told the question was not answered.`,
  );
}

/**
 * One task in full: body, links, runs in words, the live log tail, events, comments, actions,
 * and a person's replies: the answer to a question, a review's verdict, an approval.
 */
export function Drawer({ id, now, version, onOpen, onClose, onError, onDone }: Props) {
  const [task, setTask] = useState<TaskDetail | null>(null);
  const [events, setEvents] = useState<WardenEvent[]>([]);
  const [log, setLog] = useState('');
  const [comment, setComment] = useState('');
  const [editing, setEditing] = useState(false);
  // The answer a person is writing, kept while the task moves on under it (someone else
  // answered, and the worker runs or asks again): a trial's draft went with the reply box.
  const [answerDraft, setAnswerDraft] = useState<AnswerDraft | null>(null);
  useEffect(() => setAnswerDraft(null), [id]);

  const load = async (): Promise<void> => {
    try {
      setTask(await api.task(id));
      setEvents((await api.events(id)).events);
    } catch (err) {
      onError(err);
      // A task that is not there (a stale link): the message says so, and no drawer waits.
      if (err instanceof ApiError && err.status === 404) onClose();
    }
  };
  useEffect(() => void load(), [id, version]);

  // Opened, the drawer takes the keyboard's focus (a trial's Tab went on through the board's
  // cards, the drawer's × 23 presses away); App gives it back to the card when it closes.
  const closeButton = useRef<HTMLButtonElement>(null);
  const loaded = task !== null;
  useEffect(() => {
    if (loaded) closeButton.current?.focus();
  }, [id, loaded]);

  // The live tail shows its newest lines, and keeps to them while a person has not scrolled up.
  const tailBox = useRef<HTMLPreElement>(null);
  const pinned = useRef(true);
  useEffect(() => {
    const box = tailBox.current;
    if (box !== null && pinned.current) box.scrollTop = box.scrollHeight;
  }, [log]);

  const running = task?.current_run_id ?? null;
  useEffect(() => {
    if (running === null) return;
    let stop = false;
    const tick = async (): Promise<void> => {
      try {
        const l = await api.log(running);
        if (!stop) setLog(l.log);
      } catch {
        // The log may not exist yet; try again on the next tick.
      }
    };
    void tick();
    const timer = setInterval(() => void tick(), 1000);
    return () => {
      stop = true;
      clearInterval(timer);
    };
  }, [running]);
  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      if (e.key === 'Escape') onClose();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);

  const act = async (work: () => Promise<unknown>): Promise<void> => {
    try {
      await work();
      onDone();
      await load();
      // The button pressed may be gone with the move it made: the focus stays in the drawer.
      if (document.activeElement === document.body) closeButton.current?.focus();
    } catch (err) {
      onError(err);
      // Refused as out of date (409: another tab or person moved it first): show it as it is.
      if (err instanceof ApiError && err.status === 409) await load();
    }
  };

  if (!task)
    return (
      <aside class="drawer" aria-label="task">
        loading…
      </aside>
    );
  const lastRun = task.runs.at(-1);
  const usage = sumUsage(task.runs.map((r) => r.llm));
  const unpriced = unpricedNote(usage.unpriced);
  const inReview = task.status === 'review';
  // Why a waiting task does not start: approval, a delay, nobody assigned (as `warden list`).
  const state = describeTaskState(task, now);
  return (
    <aside class="drawer" aria-label={`task ${task.id}`} data-drawer={task.id}>
      <header>
        <h2>
          #{task.id} {task.title}
        </h2>
        <button class="close" onClick={onClose} aria-label="close" ref={closeButton}>
          ×
        </button>
      </header>
      <p class="status" data-status={task.status}>
        {task.status}
        {task.assignee ? ` · @${task.assignee}` : ''} · priority {task.priority}
        {task.block_reason ? ` · ${task.block_reason}` : ''}
      </p>
      {state !== '' && task.status !== 'blocked' && (
        <p class="state" data-state>
          {state}
        </p>
      )}
      {usage.requests > 0 && (
        <p class="llm" data-llm="task">
          model: {usageLine(usage)}
          {unpriced !== null && <small>{unpriced}</small>}
        </p>
      )}
      {task.status === 'blocked' && task.block_rule === 'question' ? (
        <QuestionReply
          key={task.id}
          task={task}
          act={act}
          draft={answerDraft}
          setDraft={setAnswerDraft}
        />
      ) : (
        answerDraft !== null && (
          <p class="warn" role="alert" data-draft-unsent>
            Your answer to “{answerDraft.question}” was not sent: the task no longer waits for it
            (it is {task.status}; someone else may have answered).{' '}
            <button type="button" class="link" onClick={() => setAnswerDraft(null)}>
              Discard it
            </button>
          </p>
        )
      )}
      <div class="actions">
        {task.status === 'triage' && (
          <button
            class="primary"
            data-action="accept"
            onClick={() => void act(() => api.move(task.id, 'accept'))}
          >
            Accept
          </button>
        )}
        {awaitsApproval(task) && (
          <button
            class="primary"
            data-action="approve"
            onClick={() => void act(() => api.approve(task.id))}
          >
            Approve
          </button>
        )}
        {task.status === 'blocked' && (
          <button
            data-action="unblock"
            onClick={() => {
              if (movesPastQuestion(task)) void act(() => api.move(task.id, 'unblock'));
            }}
          >
            Unblock
          </button>
        )}
        {(task.status === 'blocked' || task.status === 'done') && (
          <button
            data-action="retry"
            onClick={() => {
              if (movesPastQuestion(task)) void act(() => api.move(task.id, 'retry'));
            }}
          >
            Retry
          </button>
        )}
        {task.current_run_id !== null && (
          <button
            data-action="stop"
            onClick={() => {
              const ask = `Stop the run of task #${task.id}? Its worker is ended now, and the task is blocked until it is unblocked or retried.`;
              if (confirm(ask)) void act(() => api.stop(task.id, {}));
            }}
          >
            Stop
          </button>
        )}
        {personMay('block', task) && (
          <button
            data-action="block"
            onClick={() => {
              const reason = window.prompt(`Why is task #${task.id} blocked?`);
              if (reason)
                void act(() => api.move(task.id, 'block', { reason, kind: 'needs_input' }));
            }}
          >
            Block
          </button>
        )}
        {personMay('done', task) && (
          <button
            data-action="done"
            onClick={() => {
              if (confirm(`Mark task #${task.id} done by hand? No worker runs it again.`))
                void act(() => api.move(task.id, 'done'));
            }}
          >
            Done
          </button>
        )}
        {task.status !== 'archived' && task.current_run_id === null && (
          <button
            data-action="archive"
            onClick={() => {
              const worktree =
                task.worktree !== null && task.worktree.removed_at === null
                  ? ' Its worktree is removed (uncommitted work is saved in a rescue ref; the branch stays).'
                  : '';
              if (confirm(`Archive task #${task.id}?${worktree}`))
                void act(() => api.move(task.id, 'archive'));
            }}
          >
            Archive
          </button>
        )}
        <button data-action="edit" aria-expanded={editing} onClick={() => setEditing(!editing)}>
          Edit
        </button>
      </div>
      {editing && (
        <EditForm key={task.id} task={task} act={act} onSaved={() => setEditing(false)} />
      )}
      {task.body && <pre class="body">{task.body}</pre>}
      {(task.parents.length > 0 || task.children.length > 0) && (
        <p class="links">
          {task.parents.length > 0 && 'waits for '}
          {task.parents.map((p) => (
            <button class="link" key={p} onClick={() => onOpen(p)}>
              #{p}
            </button>
          ))}
          {task.children.length > 0 && ' · children '}
          {task.children.map((c) => (
            <button class="link" key={c} onClick={() => onOpen(c)}>
              #{c}
            </button>
          ))}
        </p>
      )}
      {task.result && task.result.summary !== '' && (
        <p class="result">
          <strong>result:</strong> {task.result.summary}
        </p>
      )}
      {inReview && (
        <>
          <ReviewActions key={task.id} task={task} act={act} />
          <Worktree task={task} version={version} open />
        </>
      )}
      <h3>Runs</h3>
      {task.runs.length === 0 ? (
        <p>no runs yet</p>
      ) : (
        <ol class="runs">
          {task.runs.map((r) => (
            <li key={r.id} data-run={r.id} data-outcome={r.outcome ?? r.state}>
              <div>
                run {r.id} {describeRun(r, now)}
              </div>
              {r.state === 'ended' && <small>{describeReason(r)}</small>}
              {r.llm.requests > 0 && (
                <small class="llm" data-llm={`run-${r.id}`}>
                  model: {usageLine(r.llm)}
                </small>
              )}
              {r.evidence && (
                <small class="evidence" data-evidence>
                  worktree: {evidenceLine(r.evidence)}
                </small>
              )}
              {r.log_path !== null && <RunLog runId={r.id} live={r.state !== 'ended'} />}
            </li>
          ))}
        </ol>
      )}
      <Timeline runs={task.runs} version={version} />
      {!inReview && <Worktree task={task} version={version} />}
      {(running !== null || (lastRun && log)) && (
        <>
          <h3>Log {running !== null ? '(live)' : ''}</h3>
          <pre
            class="log"
            data-log
            ref={tailBox}
            onScroll={(e) => {
              const box = e.currentTarget;
              pinned.current = box.scrollTop + box.clientHeight >= box.scrollHeight - 16;
            }}
          >
            {log || '(no output yet)'}
          </pre>
        </>
      )}
      {task.questions.length > 0 && (
        <>
          <h3>Questions</h3>
          {task.questions.map((q) => (
            <div class="qa" key={`${q.run_id}-${q.asked_at}`} data-qa>
              <p>
                <strong>run {q.run_id}</strong> {ago(now, q.asked_at)}: {q.question}
              </p>
              <p class="answer">
                {q.answer === null ? (
                  'not answered'
                ) : (
                  <>
                    <strong>{q.answered_by ?? '?'}</strong> {ago(now, q.answered_at)}: {q.answer}
                  </>
                )}
              </p>
            </div>
          ))}
        </>
      )}
      <h3>Comments</h3>
      {task.comments.map((c) => (
        <p key={c.id} class="comment">
          <strong>{c.actor}</strong> {ago(now, c.at)}: {c.body}
        </p>
      ))}
      <form
        class="comment-form"
        onSubmit={(e) => {
          e.preventDefault();
          void act(async () => {
            await api.comment(task.id, comment);
            setComment('');
          });
        }}
      >
        <input
          aria-label="comment"
          placeholder="Add a comment"
          value={comment}
          onInput={(e) => setComment(e.currentTarget.value)}
        />
        <button type="submit">Comment</button>
      </form>
      <h3>History</h3>
      <ol class="events">
        {[...events].reverse().map((e) => (
          <li key={e.id}>
            <span>{ago(now, e.at)}</span> <strong>{e.kind}</strong> <span>{e.actor}</span>
          </li>
        ))}
      </ol>
    </aside>
  );
}
