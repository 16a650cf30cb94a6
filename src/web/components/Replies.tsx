import { useState } from 'preact/hooks';
import { api } from '../api.js';
import type { TaskDetail } from '../api.js';

interface Props {
  task: TaskDetail;
  /** Runs a request, then loads the drawer again; a refusal goes to the page's message. */
  act: (work: () => Promise<unknown>) => Promise<void>;
}

/**
 * The reply box of a task blocked on its worker's question (issue #14): the answer puts the
 * task back in line in one step, first in its next attempt's context.
 */
/** A person's answer being written, and the question it was begun under. */
export interface AnswerDraft {
  text: string;
  question: string;
}

interface ReplyProps extends Props {
  /** Kept by the drawer: the box goes while the task does not wait on a question. */
  draft: AnswerDraft | null;
  setDraft: (draft: AnswerDraft | null) => void;
}

export function QuestionReply({ task, act, draft, setDraft }: ReplyProps) {
  // The open question as stored, which the server compares an answer's with: the block's
  // reason may carry more (a worktree run's rescue note), and an answer naming it was refused.
  const open = task.questions.find((q) => q.answer === null);
  const question = open?.question ?? (task.block_reason ?? '').replace(/^question: /, '');
  // The worker may ask another question (after someone else's answer) while a person types:
  // the draft is the first one's, and must not go to the new one unread.
  const answer = draft?.text ?? '';
  const changed = draft !== null && draft.question !== question;
  return (
    <form
      class="reply"
      data-reply
      onSubmit={(e) => {
        e.preventDefault();
        void act(async () => {
          // The server refuses it (409) if the task asks another question by now.
          await api.answer(task.id, answer, draft?.question ?? question);
          setDraft(null);
        });
      }}
    >
      <h3>The worker asks</h3>
      <p class="question" data-question>
        {question}
      </p>
      {changed && (
        <p class="warn" role="alert" data-question-changed>
          The question changed while you typed. Your draft answers: “{draft.question}”.{' '}
          <button type="button" class="link" onClick={() => setDraft({ ...draft, question })}>
            Use it for the new question
          </button>
        </p>
      )}
      <textarea
        aria-label="answer"
        placeholder="Your answer: it starts the next attempt's context"
        value={answer}
        onInput={(e) => {
          const text = e.currentTarget.value;
          setDraft(text === '' ? null : { text, question: draft?.question ?? question });
        }}
      />
      <button type="submit" class="primary" data-action="answer" disabled={changed}>
        Answer
      </button>
    </form>
  );
}

/**
 * A person's verdict on a task in review (issue #14), beside its diff: Approve makes it done;
 * Request changes sends it back with the reason first in its next attempt's context.
 */
export function ReviewActions({ task, act }: Props) {
  const [reason, setReason] = useState('');
  return (
    <section class="review" data-review>
      <h3>Review</h3>
      <p class="muted">
        Approve it (done), or say what to change and send it back for another attempt.
      </p>
      <textarea
        aria-label="what to change"
        placeholder="What to change (for Request changes)"
        value={reason}
        onInput={(e) => setReason(e.currentTarget.value)}
      />
      <div class="actions">
        <button
          class="primary"
          data-action="approve-review"
          onClick={() => void act(() => api.approve(task.id))}
        >
          Approve
        </button>
        <button
          data-action="request-changes"
          onClick={() =>
            void act(async () => {
              await api.requestChanges(task.id, reason);
              setReason('');
            })
          }
        >
          Request changes
        </button>
      </div>
    </section>
  );
}
