import type { StopIntent } from '../../core/ending.js';
import type { EventKind, Json, WardenEvent } from '../../core/events.js';
import type { Profile } from '../../core/profile.js';
import { hiddenEnv } from '../../core/hidden-env.js';
import type { ProcessIdentity, Run, RunMode, RunReason } from '../../core/run.js';
import type { BlockKind, Outcome, RunState, TaskStatus } from '../../core/status.js';
import type { Comment, Task } from '../../core/task.js';
import type { PolicyOverrides } from '../../core/policy.js';
import type { RunEvidence } from '../../core/worktree.js';
import { NO_BUDGET } from '../../core/llm.js';
import type { LlmState } from '../../core/llm.js';
import type { Board, TokenInfo, TokenKind } from '../store.js';

/** Rows as the database returns them: integers, text and JSON text. */
export interface TaskRow {
  id: number;
  board: string;
  title: string;
  body: string;
  assignee: string | null;
  priority: number;
  status: string;
  not_before: number | null;
  attempts: number;
  failures: number;
  stall_streak: number;
  rate_limited_streak: number;
  spawn_failures: number;
  host_losses: number;
  result_summary: string | null;
  result_metadata: string | null;
  block_reason: string | null;
  block_kind: string | null;
  block_rule: string | null;
  policy: string;
  current_run_id: number | null;
  created_by: string;
  created_by_task: number | null;
  idempotency_key: string | null;
  llm_requests: number;
  llm_tokens: number;
  llm_cost_usd: number;
  llm_unpriced: number;
  needs_approval: number;
  /** Review rounds count the reviews after this id (a person's unblock or retry sets it). */
  review_rounds_from: number;
  review_by: string | null;
  approved_by: string | null;
  approved_at: number | null;
  created_at: number;
  updated_at: number;
}

/** Parses a JSON column, or gives `fallback` for NULL or unreadable text. */
export function json<T>(text: string | null, fallback: T): T {
  return text === null ? fallback : (JSON.parse(text) as T);
}

/** A task row plus its links as a domain task. */
export function toTask(row: TaskRow, parents: number[], children: number[]): Task {
  return {
    id: row.id,
    board: row.board,
    title: row.title,
    body: row.body,
    assignee: row.assignee,
    priority: row.priority,
    status: row.status as TaskStatus,
    not_before: row.not_before,
    parents,
    children,
    counters: {
      attempts: row.attempts,
      failures: row.failures,
      stall_streak: row.stall_streak,
      rate_limited_streak: row.rate_limited_streak,
      spawn_failures: row.spawn_failures,
      host_losses: row.host_losses,
    },
    result:
      row.result_summary === null
        ? null
        : { summary: row.result_summary, metadata: json<Json>(row.result_metadata, null) },
    block_reason: row.block_reason,
    block_kind: row.block_kind as BlockKind | null,
    block_rule: row.block_rule,
    policy: json<PolicyOverrides>(row.policy, {}),
    current_run_id: row.current_run_id,
    created_by: row.created_by,
    created_by_task: row.created_by_task,
    idempotency_key: row.idempotency_key,
    llm: {
      requests: row.llm_requests,
      tokens: row.llm_tokens,
      cost_usd: row.llm_cost_usd,
      unpriced: row.llm_unpriced,
    },
    approval: { required: row.needs_approval !== 0, by: row.approved_by, at: row.approved_at },
    review_by: row.review_by,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

export interface ProfileRow {
  name: string;
  version: number;
  spec: string;
  paused: number;
  paused_reason: string | null;
  paused_by: string | null;
  breaker_failures: number;
  breaker_tasks: string;
  breaker_trips: number;
  breaker_failed_probes: number;
  breaker_probe_at: number | null;
  breaker_probe_run: number | null;
  created_at: number;
  updated_at: number;
}

/** The stored part of a profile that is versioned as one JSON document. */
export type StoredProfileSpec = Pick<
  Profile,
  | 'mode'
  | 'argv'
  | 'env'
  | 'inherit_env'
  | 'cwd'
  | 'worktree'
  | 'setup'
  | 'progress_from_workspace'
  | 'llm'
  | 'budget'
  | 'require_approval'
  | 'reviewer'
  | 'self_review'
  | 'max_concurrency'
  | 'concurrency_group'
  | 'policy'
>;

export function toProfile(row: ProfileRow): Profile {
  const spec = JSON.parse(row.spec) as StoredProfileSpec;
  return {
    name: row.name,
    version: row.version,
    ...spec,
    mode: spec.mode ?? 'spawned',
    // Profiles stored before issue #11 inherit only the base set.
    inherit_env: spec.inherit_env ?? [],
    // Profiles stored before issue #12 have a plain folder per task.
    worktree: spec.worktree ?? null,
    setup: spec.setup ?? null,
    progress_from_workspace: spec.progress_from_workspace ?? null,
    // Profiles stored before issue #13 have no proxy and no budget.
    llm: spec.llm ?? null,
    budget: { ...NO_BUDGET, ...spec.budget },
    require_approval: spec.require_approval ?? false,
    reviewer: spec.reviewer ?? null,
    self_review: spec.self_review ?? false,
    paused: row.paused !== 0,
    paused_reason: row.paused_reason,
    paused_by: row.paused_by as Profile['paused_by'],
    breaker: {
      failures: row.breaker_failures,
      trips: row.breaker_trips,
      failed_probes: row.breaker_failed_probes,
      probe_at: row.breaker_probe_at,
      probe_run: row.breaker_probe_run,
    },
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

export interface RunRow {
  id: number;
  task_id: number;
  board: string;
  attempt: number;
  state: string;
  mode: string;
  host_id: string | null;
  worker_id: string | null;
  profile: string | null;
  profile_version: number | null;
  argv: string;
  env: string;
  cwd: string | null;
  boot_id: string | null;
  pid: number | null;
  proc_start_time: string | null;
  log_path: string | null;
  started_at: number;
  ending_at: number | null;
  ended_at: number | null;
  last_heartbeat_at: number | null;
  last_progress_at: number | null;
  last_output_at: number | null;
  progress_count: number;
  output_bytes: number;
  last_note: string | null;
  used_protocol: number;
  stall_warned_at: number | null;
  outcome: string | null;
  reason: string | null;
  exit_code: number | null;
  signal: string | null;
  log_tail: string | null;
  result_summary: string | null;
  result_metadata: string | null;
  token_hash: string;
  terminal_request: string | null;
  terminal_response: string | null;
  stop_intent: string | null;
  /** Null before issue #12's migration for runs that ended earlier, and for folder workspaces. */
  evidence: string | null;
  llm_requests: number;
  llm_input_tokens: number;
  llm_output_tokens: number;
  llm_cache_read_tokens: number;
  llm_cache_write_tokens: number;
  llm_cost_usd: number;
  llm_unpriced: number;
  llm_rate_limits: number;
  llm_errors: number;
  llm_last_error: string | null;
  llm_state: string | null;
  llm_state_since: number | null;
  role: string;
}

export function toRun(row: RunRow): Run {
  const process: ProcessIdentity | null =
    row.pid === null
      ? null
      : { boot_id: row.boot_id ?? '', pid: row.pid, start_time: row.proc_start_time ?? '' };
  return {
    id: row.id,
    task_id: row.task_id,
    board: row.board,
    attempt: row.attempt,
    state: row.state as RunState,
    mode: row.mode as RunMode,
    host_id: row.host_id,
    worker_id: row.worker_id,
    profile: row.profile,
    profile_version: row.profile_version,
    argv: json<string[]>(row.argv, []),
    env: json<Record<string, string>>(row.env, {}),
    cwd: row.cwd,
    process,
    log_path: row.log_path,
    started_at: row.started_at,
    ending_at: row.ending_at,
    ended_at: row.ended_at,
    last_heartbeat_at: row.last_heartbeat_at,
    last_progress_at: row.last_progress_at,
    last_output_at: row.last_output_at,
    progress_count: row.progress_count,
    output_bytes: row.output_bytes,
    stall_warned_at: row.stall_warned_at,
    outcome: row.outcome as Outcome | null,
    reason: json<RunReason | null>(row.reason, null),
    exit_code: row.exit_code,
    signal: row.signal,
    log_tail: row.log_tail,
    last_note: row.last_note,
    used_protocol: row.used_protocol !== 0,
    stop_intent: json<StopIntent | null>(row.stop_intent, null),
    result:
      row.result_summary === null
        ? null
        : { summary: row.result_summary, metadata: json<Json>(row.result_metadata, null) },
    evidence: json<RunEvidence | null>(row.evidence, null),
    llm: {
      requests: row.llm_requests,
      tokens: {
        input: row.llm_input_tokens,
        output: row.llm_output_tokens,
        cache_read: row.llm_cache_read_tokens,
        cache_write: row.llm_cache_write_tokens,
      },
      cost_usd: row.llm_cost_usd,
      unpriced: row.llm_unpriced,
      rate_limits: row.llm_rate_limits,
      errors: row.llm_errors,
      last_error: row.llm_last_error,
      // An ended run has no request open, whatever its last flush left (the one that would
      // have cleared it is refused once the run has ended).
      state: row.state === 'ended' ? null : (row.llm_state as LlmState | null),
      state_since: row.state === 'ended' ? null : row.llm_state_since,
    },
    role: row.role === 'review' ? 'review' : 'work',
  };
}

export interface EventRow {
  id: number;
  board: string | null;
  task_id: number | null;
  run_id: number | null;
  actor: string;
  kind: string;
  payload: string;
  at: number;
}

/**
 * A `profile_added` payload with its env's values hidden: events are read by the API, the
 * dashboard, webhooks and MCP. Events written before the values were left out at the write
 * still hold them in the database; they are hidden here, on every read.
 */
function withoutEnvValues(payload: WardenEvent['payload']): WardenEvent['payload'] {
  const spec = (payload as { spec?: { env?: unknown } }).spec;
  if (typeof spec !== 'object' || spec === null || typeof spec.env !== 'object' || !spec.env) {
    return payload;
  }
  return { ...payload, spec: { ...spec, env: hiddenEnv(spec.env as Record<string, string>) } };
}

export function toEvent(row: EventRow): WardenEvent {
  const payload = JSON.parse(row.payload) as WardenEvent['payload'];
  return {
    id: row.id,
    board: row.board,
    task_id: row.task_id,
    run_id: row.run_id,
    actor: row.actor,
    kind: row.kind as EventKind,
    payload: row.kind === 'profile_added' ? withoutEnvValues(payload) : payload,
    at: row.at,
  };
}

export interface CommentRow {
  id: number;
  task_id: number;
  actor: string;
  body: string;
  at: number;
}

export function toComment(row: CommentRow): Comment {
  return { ...row };
}

export interface BoardRow {
  name: string;
  paused: number;
  created_at: number;
}

export function toBoard(row: BoardRow): Board {
  return { name: row.name, paused: row.paused !== 0, created_at: row.created_at };
}

export interface TokenRow {
  id: number;
  name: string;
  kind: string;
  profiles: string;
  created_at: number;
}

export function toToken(row: TokenRow): TokenInfo {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind as TokenKind,
    profiles: json<string[]>(row.profiles, []),
    created_at: row.created_at,
  };
}
