import { gist, oneLine } from './gist.js';
import type { Json, WardenEvent } from './events.js';
import { formatDuration } from './duration.js';
import type { NotifyFormat, NotifyKind } from './notify.js';
import { pauseReason } from './inbox.js';

/** What a message says about the task an event is about, read when it is sent. */
export interface TaskBrief {
  id: number;
  title: string;
  board: string;
  status: string;
  attempts: number;
  result_summary: string | null;
}

/** One notification, ready to be written in a target's format. */
export interface Notification {
  /** The idempotency key (`X-Warden-Delivery`). */
  key: string;
  /** `test`: what `warden notify test` sends. */
  kind: NotifyKind | 'test';
  /** The event (null for a test message). */
  event: WardenEvent | null;
  task: TaskBrief | null;
  /** One line: what happened and why, with the numbers. */
  text: string;
  /** The task (or board) in the dashboard, when serve knows where it is. */
  link: string | null;
}

/** An HTTP request to a target, before signing. */
export interface NotifyRequest {
  body: string;
  headers: Record<string, string>;
}

function flat(text: string, max = 300): string {
  return oneLine(text, max);
}

function str(value: Json | undefined): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/** The dashboard address of a task (or of a board, for host events). */
export function dashboardLink(
  base: string | null,
  board: string | null,
  taskId: number | null,
): string | null {
  if (base === null || base === '') return null;
  const params = new URLSearchParams();
  if (board !== null) params.set('board', board);
  if (taskId !== null) params.set('task', String(taskId));
  const query = params.toString();
  return `${base.replace(/\/+$/, '')}/${query === '' ? '' : `?${query}`}`;
}

/**
 * The one line a notification says: what happened to which task, why, with the numbers, and
 * the dashboard link at the end.
 */
export function notificationText(
  kind: NotifyKind,
  event: WardenEvent,
  task: TaskBrief | null,
  link: string | null,
): string {
  const p = event.payload;
  const name =
    task === null
      ? `task #${event.task_id ?? '?'}`
      : `task #${task.id} “${flat(task.title, 80)}” (${task.board})`;
  const attempts =
    task === null ? '' : ` after ${task.attempts} attempt${task.attempts === 1 ? '' : 's'}`;
  const reason = str(p.reason);
  // Cut to keep the worker's own words (its last output) rather than the advice before them.
  const why = reason === null ? '' : `: ${gist(reason, 300)}`;
  let line: string;
  switch (kind) {
    case 'completed': {
      const summary = task?.result_summary ? ` — ${flat(task.result_summary, 200)}` : '';
      line = `${name} completed${attempts}${summary}`;
      break;
    }
    case 'review_requested':
      line = `${name} is waiting for review${attempts}`;
      break;
    case 'needs_input':
      line = `${name} needs input${why}`;
      break;
    case 'question':
      // The reason a question blocks with starts `question: ` itself.
      line = `${name} asks a question${why.replace(/^: question: /, ': ')}`;
      break;
    case 'stall_loop':
    case 'gave_up':
      line = `${name} was given up on${attempts}${why}`;
      break;
    case 'budget':
      line = `${name} is blocked, its budget is spent${why}`;
      break;
    case 'stalled': {
      const silent = typeof p.silent_ms === 'number' ? formatDuration(p.silent_ms) : '?';
      const timeout =
        str(p.stall_timeout) ??
        (typeof p.stall_timeout === 'number' ? formatDuration(p.stall_timeout) : null);
      const attempt = typeof p.attempt === 'number' ? `, attempt ${p.attempt}` : '';
      const until = timeout === null ? '' : `; it is ended as stalled at ${timeout} of silence`;
      line = `${name} has been silent for ${silent} (run ${event.run_id ?? '?'}${attempt})${until}`;
      break;
    }
    case 'profile_paused': {
      const profile = str(p.profile) ?? '?';
      const why = pauseReason('breaker', reason) ?? '';
      const resume = why.includes('warden profile resume')
        ? ''
        : ` — \`warden profile resume ${profile}\``;
      line = `profile ${profile} was paused by its breaker: ${flat(why)}; none of its tasks start${resume}`;
      break;
    }
    case 'host_lost': {
      const runs = Array.isArray(p.runs) ? p.runs.length : 0;
      line = `host ${str(p.host) ?? '?'} was lost: its lease lapsed, and ${str(p.reaped_by) ?? 'another host'} ended its ${runs} run${runs === 1 ? '' : 's'}`;
      break;
    }
  }
  return link === null ? `[warden] ${line}` : `[warden] ${line} ${link}`;
}

/** A short title (ntfy's Title header). */
function title(n: Notification): string {
  const what = n.kind.replace(/_/g, ' ');
  return n.task === null ? `warden: ${what}` : `warden: #${n.task.id} ${what}`;
}

/** ntfy tags (emoji shortcodes) per kind. */
const NTFY_TAGS: Record<NotifyKind | 'test', string> = {
  test: 'bell',
  completed: 'white_check_mark',
  review_requested: 'eyes',
  needs_input: 'raising_hand',
  question: 'question',
  stall_loop: 'warning',
  gave_up: 'x',
  budget: 'moneybag',
  stalled: 'hourglass',
  host_lost: 'rotating_light',
  profile_paused: 'no_entry',
};

/** The body and headers a target gets in its format (before a signature is added). */
export function renderNotification(n: Notification, format: NotifyFormat): NotifyRequest {
  const headers: Record<string, string> = {
    'user-agent': 'warden-notify',
    'x-warden-delivery': n.key,
    'x-warden-event': n.kind,
  };
  switch (format) {
    case 'json':
      return {
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify({
          id: n.key,
          kind: n.kind,
          text: n.text,
          link: n.link,
          task: n.task,
          event: n.event,
        }),
      };
    case 'slack':
      return {
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify({ text: n.text }),
      };
    case 'discord':
      return {
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify({ content: n.text }),
      };
    case 'ntfy':
      return {
        headers: {
          ...headers,
          'content-type': 'text/plain; charset=utf-8',
          title: title(n),
          tags: NTFY_TAGS[n.kind],
          ...(n.link === null ? {} : { click: n.link }),
        },
        body: n.text,
      };
  }
}
