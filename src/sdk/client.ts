import type { Json, WardenEvent } from '../core/events.js';
import type { Run } from '../core/run.js';
import type { BlockKind, TaskStatus } from '../core/status.js';
import type { Comment, NewTask, Task, TaskPatch } from '../core/task.js';
import type { EndResult, StopIntent } from '../core/ending.js';
import type { NewSchedule, Schedule } from '../core/schedule.js';
import type { DeadLetter, Subscription } from '../core/notify.js';
import type { ApplyResult } from '../core/apply.js';
import type { BulkResult, BulkVerb } from '../core/bulk.js';
import type { Inbox } from '../core/inbox.js';
import type { Report } from '../core/report.js';
import type { QuestionAnswer } from '../core/worker-protocol.js';
import { keyedCreate } from './call-key.js';
import { callApi } from './http.js';
import { CLIENT_DEFAULTS, ENDING_TIMINGS } from '../core/defaults.js';

/** A task with its comments and runs, as `getTask` returns it. */
export type TaskDetail = Task & { comments: Comment[]; questions: QuestionAnswer[]; runs: Run[] };

/** Options of `createClient`. */
export interface ClientOptions {
  /** The API of a `warden serve`, e.g. `http://127.0.0.1:7420`. */
  url: string;
  /** An admin token (`$WARDEN_HOME/admin.token`, or `warden token create NAME --admin`). */
  token: string;
  /** How long unanswered calls are retried. @default 30000 */
  retryForMs?: number;
}

/** One task of a task graph, as a `warden apply` file gives it (see docs/cli.md). */
export interface GraphTaskInput {
  /** Its local name, unique in the graph; other tasks name it in `after`. */
  name: string;
  title: string;
  body?: string;
  assignee?: string | null;
  priority?: number;
  /** Local names of this graph, or ids of tasks already on the board, it waits for. */
  after?: (string | number)[];
  /** Its idempotency key. @default `apply:GRAPH/NAME` */
  key?: string;
  /** Limits keyed as in `config.json` (`"stall_timeout": "10m"`). */
  policy?: Record<string, unknown>;
  /** Start in triage rather than todo/ready. */
  triage?: boolean;
}

/** A task graph for `apply`: the JSON form of a `warden apply` file. */
export interface GraphInput {
  /** The graph's name, kept in derived keys so an edited graph keeps its tasks. */
  name?: string;
  /** @default "default" */
  board?: string;
  tasks: GraphTaskInput[];
}

/** Which tasks of a board `bulk` takes; at least one of statuses, assignee and kinds. */
export interface BulkFilterInput {
  /** @default "default" */
  board?: string;
  statuses?: TaskStatus[];
  assignee?: string;
  /** Block kinds; alone they mean blocked tasks. */
  kinds?: BlockKind[];
}

/** People's operations over HTTP, acting as the token's holder. */
export interface WardenClient {
  /** Creates a task; `needs_approval` and `not_before` (epoch ms) pass through as given. */
  createTask(input: NewTask): Promise<Task>;
  listTasks(filter?: {
    board?: string;
    statuses?: TaskStatus[];
    assignee?: string;
    limit?: number;
  }): Promise<Task[]>;
  getTask(id: number): Promise<TaskDetail>;
  editTask(id: number, patch: TaskPatch): Promise<Task>;
  comment(id: number, text: string): Promise<Comment>;
  link(parent: number, child: number): Promise<Task>;
  block(id: number, reason: string, kind?: BlockKind): Promise<Task>;
  unblock(id: number): Promise<Task>;
  retry(id: number): Promise<Task>;
  done(id: number, summary?: string, metadata?: Json): Promise<Task>;
  archive(id: number): Promise<Task>;
  /** Ends the task's run and waits until its worker is verified gone. */
  stop(id: number, intent?: StopIntent): Promise<EndResult>;
  /**
   * Answers the worker's question of a task blocked on it: the task goes back in line with
   * the question and answer first in its next attempt's context. `illegal_state` when it
   * asked nothing.
   */
  answer(id: number, text: string): Promise<Task>;
  /**
   * Approves a task waiting for approval (it may now be dispatched) or in review (it is
   * done). `illegal_state` otherwise.
   */
  approve(id: number): Promise<Task>;
  /** Sends a task in review back for more work, the reason first in its next context. */
  requestChanges(id: number, reason: string): Promise<Task>;
  /**
   * Creates a task graph in one transaction, or nothing; the same graph again creates
   * nothing new. A dry run says what it would create.
   */
  apply(graph: GraphInput, options?: { dryRun?: boolean }): Promise<ApplyResult>;
  /**
   * Retries, unblocks or archives every task a filter matches, each by the same move as on
   * one task; refusals are listed per task. A dry run unless `dryRun` is false.
   */
  bulk(
    verb: BulkVerb,
    filter: BulkFilterInput,
    options?: { dryRun?: boolean },
  ): Promise<BulkResult>;
  /**
   * Events of a board (or one task), oldest first: the newest `limit`, or the first after
   * `after`. To follow, pass the last event's id as the next `after`, not the largest: on
   * PostgreSQL events come in the order they became final (docs/api.md).
   */
  events(filter?: {
    board?: string;
    task?: number;
    after?: number;
    limit?: number;
  }): Promise<WardenEvent[]>;
  /**
   * What waits for a person on a board (issue #15), newest first, each with the command that
   * clears it; `limit` caps the tasks, `total` counts them all.
   */
  inbox(options?: { board?: string; limit?: number }): Promise<Inbox>;
  /**
   * What a board's workers did since a time (an ISO 8601 time or how far back, `12h`; default
   * 24h): each task worked with its branch, work and cost, the model's cost, what waits.
   */
  report(options?: { board?: string; since?: string; limit?: number }): Promise<Report>;
  /** Schedules (issue #14): every one, or one board's. */
  listSchedules(board?: string): Promise<Schedule[]>;
  addSchedule(input: NewSchedule): Promise<Schedule>;
  pauseSchedule(name: string): Promise<Schedule>;
  /** Resumes from the schedule's next firing after now. */
  resumeSchedule(name: string): Promise<Schedule>;
  /** Removes a schedule; the tasks it created stay. */
  removeSchedule(name: string): Promise<void>;
  /** Webhook subscriptions (issue #15, docs/notifications.md). */
  listSubscriptions(): Promise<Subscription[]>;
  /** Subscribes a webhook URL; `events` are notification kinds (default: all). */
  subscribe(input: SubscribeInput): Promise<Subscription>;
  /** Removes a subscription and its dead letters. */
  unsubscribe(id: number): Promise<void>;
  /** Sends a test message now: what the target answered (`ok` false with the `error`). */
  testSubscription(id: number): Promise<SubscriptionTest>;
  /** A page of notifications that used up their attempts (of one subscription), oldest first. */
  deadLetters(
    subscription?: number,
    page?: { after?: number; limit?: number },
  ): Promise<DeadLetter[]>;
  /** Sends a dead letter again now; it leaves the dead letters once its target takes it. */
  resendDeadLetter(id: number): Promise<SubscriptionTest>;
}

/** What `subscribe` takes: the body of `POST /api/v1/notify/subscriptions`. */
export interface SubscribeInput {
  url: string;
  events?: string[];
  format?: 'json' | 'slack' | 'discord' | 'ntfy';
  board?: string;
  task_id?: number;
  secret?: string;
}

/** What a subscription's target answered to a test message. */
export interface SubscriptionTest {
  id: number;
  ok: boolean;
  status: number | null;
  error: string | null;
  answer: string;
  ms: number;
}

/**
 * A client for people's operations (create, list, show, unblock, ...), for scripts and
 * orchestrators written in TypeScript.
 *
 * @example
 * const warden = createClient({ url: 'http://127.0.0.1:7420', token });
 * const task = await warden.createTask({ title: 'Write the migration', assignee: 'coder' });
 */
export function createClient(options: ClientOptions): WardenClient {
  const retry = options.retryForMs ?? CLIENT_DEFAULTS.retry_for_ms;
  const get = <T>(path: string): Promise<T> =>
    callApi<T>(options.url, options.token, 'GET', path, undefined, retry);
  const post = <T>(path: string, body: unknown): Promise<T> =>
    callApi<T>(options.url, options.token, 'POST', path, body, retry);
  const move = (id: number, body: Record<string, unknown>): Promise<Task> =>
    post<Task>(`/api/v1/tasks/${id}/move`, body);
  const query = (params: Record<string, string | number | undefined>): string => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
    const s = q.toString();
    return s === '' ? '' : `?${s}`;
  };
  return {
    createTask: (input) => post<Task>('/api/v1/tasks', keyedCreate(input)),
    listTasks: async (f = {}) =>
      (
        await get<{ tasks: Task[] }>(
          `/api/v1/tasks${query({ board: f.board, status: f.statuses?.join(','), assignee: f.assignee, limit: f.limit })}`,
        )
      ).tasks,
    getTask: (id) => get<TaskDetail>(`/api/v1/tasks/${id}`),
    editTask: (id, patch) =>
      callApi<Task>(options.url, options.token, 'PATCH', `/api/v1/tasks/${id}`, patch, retry),
    comment: (id, text) => post<Comment>(`/api/v1/tasks/${id}/comments`, { body: text }),
    link: (parent, child) => post<Task>(`/api/v1/tasks/${child}/links`, { parent }),
    block: (id, reason, kind = 'needs_input') => move(id, { verb: 'block', reason, kind }),
    unblock: (id) => move(id, { verb: 'unblock' }),
    retry: (id) => move(id, { verb: 'retry' }),
    done: (id, summary, metadata) =>
      move(id, {
        verb: 'done',
        ...(summary !== undefined ? { summary } : {}),
        ...(metadata !== undefined ? { metadata } : {}),
      }),
    archive: (id) => move(id, { verb: 'archive' }),
    stop: (id, intent = {}) =>
      callApi<EndResult>(
        options.url,
        options.token,
        'POST',
        `/api/v1/tasks/${id}/stop`,
        intent,
        ENDING_TIMINGS.stop_wait_ms,
      ),
    answer: (id, text) => post<Task>(`/api/v1/tasks/${id}/answer`, { answer: text }),
    approve: (id) => post<Task>(`/api/v1/tasks/${id}/approve`, undefined),
    requestChanges: (id, reason) => post<Task>(`/api/v1/tasks/${id}/request-changes`, { reason }),
    apply: (graph, o = {}) =>
      post<ApplyResult>('/api/v1/apply', { ...graph, dry_run: o.dryRun === true }),
    bulk: (verb, f, o = {}) =>
      post<BulkResult>('/api/v1/tasks/bulk', {
        verb,
        ...(f.board !== undefined ? { board: f.board } : {}),
        ...(f.statuses !== undefined ? { status: f.statuses } : {}),
        ...(f.assignee !== undefined ? { assignee: f.assignee } : {}),
        ...(f.kinds !== undefined ? { kind: f.kinds } : {}),
        dry_run: o.dryRun !== false,
      }),
    events: async (f = {}) =>
      (
        await get<{ events: WardenEvent[] }>(
          `/api/v1/events${query({ board: f.board, task: f.task, after: f.after, limit: f.limit })}`,
        )
      ).events,
    inbox: (o = {}) => get<Inbox>(`/api/v1/inbox${query({ board: o.board, limit: o.limit })}`),
    report: (o = {}) =>
      get<Report>(`/api/v1/report${query({ board: o.board, since: o.since, limit: o.limit })}`),
    listSchedules: async (board) =>
      (await get<{ schedules: Schedule[] }>(`/api/v1/schedules${query({ board })}`)).schedules,
    addSchedule: (input) => post<Schedule>('/api/v1/schedules', input),
    pauseSchedule: (name) =>
      post<Schedule>(`/api/v1/schedules/${encodeURIComponent(name)}/pause`, {}),
    resumeSchedule: (name) =>
      post<Schedule>(`/api/v1/schedules/${encodeURIComponent(name)}/resume`, {}),
    removeSchedule: async (name) => {
      await callApi(
        options.url,
        options.token,
        'DELETE',
        `/api/v1/schedules/${encodeURIComponent(name)}`,
        undefined,
        retry,
      );
    },
    listSubscriptions: async () =>
      (await get<{ subscriptions: Subscription[] }>('/api/v1/notify/subscriptions')).subscriptions,
    subscribe: (input) => post<Subscription>('/api/v1/notify/subscriptions', input),
    unsubscribe: async (id) => {
      await callApi(
        options.url,
        options.token,
        'DELETE',
        `/api/v1/notify/subscriptions/${id}`,
        undefined,
        retry,
      );
    },
    testSubscription: (id) => post<SubscriptionTest>(`/api/v1/notify/subscriptions/${id}/test`, {}),
    deadLetters: async (subscription, page = {}) =>
      (
        await get<{ dead: DeadLetter[] }>(
          `/api/v1/notify/dead${query({ subscription, after: page.after, limit: page.limit })}`,
        )
      ).dead,
    resendDeadLetter: (id) => post<SubscriptionTest>(`/api/v1/notify/dead/${id}/resend`, {}),
  };
}
