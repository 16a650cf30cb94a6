import type { BulkResult, BulkVerb } from '../core/bulk.js';
import type { UsageFigures } from '../core/describe.js';
import type { WardenEvent } from '../core/events.js';
import type { Inbox } from '../core/inbox.js';
import type { Report } from '../core/report.js';
import type { Run } from '../core/run.js';
import type { Schedule } from '../core/schedule.js';
import type { RunTimeline } from '../core/timeline.js';
import type { Comment, Task } from '../core/task.js';
import type { TaskDiffView, WorktreeRecord } from '../core/worktree.js';
import type { QuestionAnswer } from '../core/worker-protocol.js';

/** A card: a task and, when it runs, its run. */
export type Card = Task & { run: Run | null };

/** The board as the server lays it out. */
export interface BoardView {
  board: string;
  paused: boolean;
  counts: Record<string, number>;
  columns: Record<string, Card[]>;
  /** Statuses of waiting cards' parents that the columns do not show. */
  off_board: Record<number, string>;
}

/** What the banner and the health panel show. */
export interface Health {
  dispatching: boolean;
  board_paused: boolean;
  paused_profiles: {
    name: string;
    by: string | null;
    reason: string | null;
    probe_at: number | null;
  }[];
  kill_failed: { run_id: number; task_id: number }[];
  running_by_profile: Record<string, number>;
  last_hour: { at: number; completed: number; failed: number }[];
  /** The board's model traffic through the proxy over the same hour. */
  llm_last_hour: UsageFigures;
}

export type TaskDetail = Task & {
  comments: Comment[];
  /** Its workers' questions, with the answers (null: not answered), newest first. */
  questions: QuestionAnswer[];
  runs: Run[];
  worktree: WorktreeRecord | null;
};

/** What the schedules panel's form sends (`POST /api/v1/schedules`). */
export interface NewSchedule {
  name: string;
  board: string;
  cron: string;
  template: { title: string; assignee?: string };
}

/** An answer the server refused, with its one-line reason. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** What `GET /runs/{id}/log` answers (docs/api.md). */
export interface LogPiece {
  run_id: number;
  state: string;
  log: string;
  offset: number;
  length: number;
  size: number;
  cut: number;
  /** The shim was cutting the log during the read: read again. */
  cutting: boolean;
}

/** The code of an `ApiError` for a request `serve` never answered (stopped, restarting). */
export const UNREACHABLE = 'unreachable';

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await send(method, path, body);
  } catch {
    // The browser's own words ("Failed to fetch") say nothing of what happened to the change.
    const lost = method === 'GET' ? 'the page tries again' : 'nothing was saved; try again';
    throw new ApiError(
      0,
      UNREACHABLE,
      `warden serve did not answer (stopped or restarting?): ${lost} once it is back`,
    );
  }
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text === '' ? null : (JSON.parse(text) as unknown);
  } catch {
    // Not warden's answer (a proxy's error page): its status says what there is to say.
    if (res.ok) throw new ApiError(res.status, 'error', `not warden's answer (HTTP ${res.status})`);
  }
  if (!res.ok) {
    const e = (json as { error?: { code: string; message: string } } | null)?.error;
    throw new ApiError(res.status, e?.code ?? 'error', e?.message ?? `HTTP ${res.status}`);
  }
  return json as T;
}

function send(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(path, {
    method,
    credentials: 'same-origin',
    headers: {
      // The session cookie is SameSite=Strict; this header is what a cross-site form cannot send.
      'x-warden-csrf': '1',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

export const api = {
  board: (board: string, q: string, limit: number, archived: boolean) =>
    call<BoardView>(
      'GET',
      `/api/v1/board?board=${encodeURIComponent(board)}&limit=${limit}${q ? `&q=${encodeURIComponent(q)}` : ''}${archived ? '&archived=1' : ''}`,
    ),
  /** The cards after `after` (the column's last card, `PRIORITY:ID`): keyset, not offset. */
  more: (board: string, status: string, q: string, after: string, limit: number) =>
    call<{ tasks: Task[] }>(
      'GET',
      `/api/v1/tasks?board=${encodeURIComponent(board)}&status=${status}&limit=${limit}&after=${encodeURIComponent(after)}${q ? `&q=${encodeURIComponent(q)}` : ''}`,
    ),
  report: (board: string, since: string, limit: number) =>
    call<Report>(
      'GET',
      `/api/v1/report?board=${encodeURIComponent(board)}&since=${encodeURIComponent(since)}&limit=${limit}`,
    ),
  inbox: (board: string, limit: number) =>
    call<Inbox>('GET', `/api/v1/inbox?board=${encodeURIComponent(board)}&limit=${limit}`),
  health: (board: string) =>
    call<Health>('GET', `/api/v1/health?board=${encodeURIComponent(board)}`),
  task: (id: number) => call<TaskDetail>('GET', `/api/v1/tasks/${id}`),
  events: (task: number) =>
    call<{ events: WardenEvent[] }>('GET', `/api/v1/events?task=${task}&limit=200`),
  diff: (id: number) => call<TaskDiffView>('GET', `/api/v1/tasks/${id}/diff`),
  timeline: (run: number) => call<RunTimeline>('GET', `/api/v1/runs/${run}/timeline`),
  log: (run: number) =>
    call<{ log: string; state: string }>('GET', `/api/v1/runs/${run}/log?bytes=8192`),
  /** A piece of a run's log: from `offset`, or its end when offset is null (RunLog.tsx). */
  logPiece: (run: number, offset: number | null, bytes: number) =>
    call<LogPiece>(
      'GET',
      `/api/v1/runs/${run}/log?bytes=${bytes}${offset === null ? '' : `&offset=${offset}`}`,
    ),
  create: (board: string, title: string, body: string, assignee: string, priority: number) =>
    call<Task>('POST', '/api/v1/tasks', {
      board,
      title,
      ...(body ? { body } : {}),
      ...(assignee ? { assignee } : {}),
      priority,
    }),
  edit: (id: number, patch: Record<string, unknown>) =>
    call<Task>('PATCH', `/api/v1/tasks/${id}`, patch),
  move: (id: number, verb: string, extra: Record<string, unknown> = {}) =>
    call<Task>('POST', `/api/v1/tasks/${id}/move`, { verb, ...extra }),
  comment: (id: number, body: string) =>
    call<Comment>('POST', `/api/v1/tasks/${id}/comments`, { body }),
  answer: (id: number, answer: string, question: string) =>
    call<Task>('POST', `/api/v1/tasks/${id}/answer`, { answer, question }),
  approve: (id: number) => call<Task>('POST', `/api/v1/tasks/${id}/approve`),
  resumeProfile: (name: string) =>
    call<unknown>('POST', `/api/v1/profiles/${encodeURIComponent(name)}/resume`),
  requestChanges: (id: number, reason: string) =>
    call<Task>('POST', `/api/v1/tasks/${id}/request-changes`, { reason }),
  schedules: (board: string) =>
    call<{ schedules: Schedule[] }>('GET', `/api/v1/schedules?board=${encodeURIComponent(board)}`),
  pauseSchedule: (name: string, pause: boolean) =>
    call<Schedule>(
      'POST',
      `/api/v1/schedules/${encodeURIComponent(name)}/${pause ? 'pause' : 'resume'}`,
    ),
  addSchedule: (body: NewSchedule) => call<Schedule>('POST', '/api/v1/schedules', body),
  removeSchedule: (name: string) =>
    call<{ removed: string }>('DELETE', `/api/v1/schedules/${encodeURIComponent(name)}`),
  bulk: (board: string, verb: BulkVerb, status: string, kind: string, dryRun: boolean) =>
    call<BulkResult>('POST', '/api/v1/tasks/bulk', {
      verb,
      board,
      status,
      ...(kind ? { kind } : {}),
      dry_run: dryRun,
    }),
  stop: (id: number, intent: Record<string, unknown>) =>
    call<{ outcome: string; verified_gone: boolean; message: string }>(
      'POST',
      `/api/v1/tasks/${id}/stop`,
      intent,
    ),
};
