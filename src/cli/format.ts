import { evidenceLine, watchesWorkspace, workspaceText } from '../core/worktree.js';
import { describeReason, describeRun, describeTaskState } from '../core/describe.js';
import type { PausedProfile } from '../core/describe.js';
import type { WardenEvent } from '../core/events.js';
import type { Profile } from '../core/profile.js';
import { DEFAULT_MAX_RATE_LIMITS, formatCost, formatTokens } from '../core/llm.js';
import type { BudgetSpec } from '../core/llm.js';
import type { Run } from '../core/run.js';
import { TASK_STATUSES } from '../core/status.js';
import type { Comment, Task } from '../core/task.js';
import { formatDuration } from '../core/duration.js';
import { formatSize } from '../core/size.js';
import { POLICY_FIELDS } from '../core/policy.js';
import type { PolicyOverrides } from '../core/policy.js';
import { gist } from '../core/gist.js';
import { formatTime, oneLine, table } from './output.js';
import type { QuestionAnswer } from '../core/worker-protocol.js';

/**
 * A card's note, its text cut at `max` characters, keeping a block's quote of the worker's
 * output (`gist`). The command that clears it, at its end (`` — `warden answer 12 TEXT` ``),
 * is never cut: it goes after the text, whole.
 */
export function noteCell(note: string, max: number): string {
  const at = note.lastIndexOf(' — `');
  if (at < 0) return gist(note, max);
  return `${gist(note.slice(0, at), max)}${note.slice(at)}`;
}

/** Tasks as a table: id, status, priority, assignee, title and what the card says. */
export function taskTable(
  tasks: readonly Task[],
  now: number,
  statusOf?: (id: number) => string | undefined,
  pausedProfile?: (name: string) => PausedProfile | undefined,
): string {
  if (tasks.length === 0) return 'no tasks';
  return table(
    ['ID', 'STATUS', 'PRI', 'ASSIGNEE', 'TITLE', 'NOTE'],
    tasks.map((t) => [
      String(t.id),
      t.status,
      String(t.priority),
      t.assignee ?? '-',
      oneLine(t.title, 50),
      noteCell(describeTaskState(t, now, statusOf, pausedProfile), 60),
    ]),
  );
}

/** Policy overrides as `stall_timeout=10m, max_failures=5`. */
export function policyText(policy: PolicyOverrides): string {
  const parts = Object.entries(policy).map(([key, value]) => {
    const kind = POLICY_FIELDS.find((f) => f.key === key)?.kind;
    const text =
      kind === 'duration'
        ? formatDuration(value as number)
        : kind === 'size'
          ? formatSize(value as number).replace(' ', '')
          : String(value);
    return `${key}=${text}`;
  });
  return parts.length > 0 ? parts.join(', ') : '(profile defaults)';
}

/** Everything about one task, for `warden show`. */
export function taskDetail(
  task: Task,
  comments: readonly Comment[],
  now: number,
  questions: readonly QuestionAnswer[] = [],
): string {
  const lines = [
    `task ${task.id} [${task.status}] on board '${task.board}'`,
    `title:     ${task.title}`,
    `assignee:  ${task.assignee ?? '(none)'}`,
    `priority:  ${task.priority}`,
    `parents:   ${task.parents.length > 0 ? task.parents.join(', ') : '(none)'}`,
    `children:  ${task.children.length > 0 ? task.children.join(', ') : '(none)'}`,
    `created:   ${formatTime(task.created_at)} by ${task.created_by}`,
    `updated:   ${formatTime(task.updated_at)}`,
    `counters:  ${Object.entries(task.counters)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    `policy:    ${policyText(task.policy)}`,
  ];
  const state = describeTaskState(task, now);
  if (state) lines.push(`state:     ${state}`);
  if (task.approval.required) {
    lines.push(
      `approval:  ${task.approval.at === null ? `needed: \`warden approve ${task.id}\`` : `approved by ${task.approval.by ?? '?'} at ${formatTime(task.approval.at)}`}`,
    );
  }
  if (task.result) lines.push(`result:    ${task.result.summary || '(no summary)'}`);
  if (task.body) lines.push('', task.body);
  if (questions.length > 0) {
    lines.push('', 'questions (newest first):');
    for (const q of questions) {
      lines.push(`  ${formatTime(q.asked_at)} run ${q.run_id} asked: ${q.question}`);
      lines.push(
        q.answer === null
          ? '    not answered'
          : `    ${formatTime(q.answered_at ?? q.asked_at)} ${q.answered_by ?? '?'} answered: ${q.answer}`,
      );
    }
  }
  if (comments.length > 0) {
    lines.push('', 'comments:');
    for (const c of comments) lines.push(`  ${formatTime(c.at)} ${c.actor}: ${c.body}`);
  }
  return lines.join('\n');
}

/** A task's runs, one line each with the reason in words. */
export function runLines(runs: readonly Run[], now: number): string {
  if (runs.length === 0) return 'no runs yet';
  return runs
    .map((r) => {
      const held = r.reason?.phases?.held_at_ms !== undefined;
      const numbers = r.state === 'ended' || held ? describeReason(r) : '';
      const evidence = r.evidence ? `\n    worktree: ${evidenceLine(r.evidence)}` : '';
      return `run ${r.id} ${describeRun(r, now)}${numbers ? `\n    ${numbers}` : ''}${evidence}`;
    })
    .join('\n');
}

/** One event as a line: time, task, kind, actor and payload. */
export function eventLine(e: WardenEvent): string {
  const where = e.task_id === null ? (e.board ?? '-') : `#${e.task_id}`;
  return `${formatTime(e.at)}  ${where.padEnd(6)} ${e.kind.padEnd(22)} ${e.actor.padEnd(18)} ${JSON.stringify(e.payload)}`;
}

/** A profile in a few lines, for `warden profile show`. */
export function profileDetail(p: Profile): string {
  return [
    `profile ${p.name} (version ${p.version})${p.paused ? ` PAUSED: ${p.paused_reason ?? ''}` : ''}`,
    `argv:              ${JSON.stringify(p.argv)}`,
    `cwd:               ${p.worktree !== null ? "the task's worktree (HOME/worktrees/ID)" : p.cwd === 'workspace' ? "the task's folder (HOME/workspaces/ID)" : p.cwd}`,
    `workspace:         ${workspaceText(p.worktree)}${p.setup !== null ? `, setup: ${p.setup}` : ''}${watchesWorkspace(p) ? ', file changes are progress' : ''}`,
    `env:               ${Object.keys(p.env).length > 0 ? Object.keys(p.env).join(', ') : '(none)'}`,
    `inherits:          ${['the base set', ...p.inherit_env].join(', ')}`,
    `max_concurrency:   ${p.max_concurrency ?? '(no cap)'}`,
    `concurrency_group: ${p.concurrency_group ?? '(none)'}`,
    `model proxy:       ${llmText(p)}`,
    `budgets:           ${budgetText(p.budget)}`,
    `review:            ${p.reviewer === null ? 'by a person' : `by a run of ${p.reviewer}`}${p.require_approval ? '; its tasks wait for approval' : ''}`,
    `policy:            ${policyText(p.policy)}`,
  ].join('\n');
}

/** A profile's model proxy in one line. */
function llmText(p: Profile): string {
  if (p.llm === null) return '(none; the agent talks to its model directly)';
  const l = p.llm;
  return [
    `${l.kind} at ${l.upstream}`,
    l.max_concurrency !== null ? `at most ${l.max_concurrency} requests at once` : null,
    `ends a run after ${l.max_rate_limits ?? DEFAULT_MAX_RATE_LIMITS} rate limits`,
  ]
    .filter((x) => x !== null)
    .join(', ');
}

/** A profile's budgets in one line. */
function budgetText(b: BudgetSpec): string {
  const parts = [
    b.max_tokens_per_task !== null
      ? `${formatTokens(b.max_tokens_per_task)} tokens per task`
      : null,
    b.max_cost_per_task !== null ? `${formatCost(b.max_cost_per_task)} per task` : null,
    b.max_cost_per_day !== null ? `${formatCost(b.max_cost_per_day)} per UTC day` : null,
  ].filter((x) => x !== null);
  return parts.length > 0 ? parts.join(', ') : '(none)';
}

/** The board as columns of cards, for `warden board show` and the demo. */
export function boardColumns(
  tasks: readonly Task[],
  now: number,
  statusOf?: (id: number) => string | undefined,
  pausedProfile?: (name: string) => PausedProfile | undefined,
): string {
  const out: string[] = [];
  for (const status of TASK_STATUSES) {
    const cards = tasks.filter((t) => t.status === status);
    if (cards.length === 0) continue;
    out.push(`${status.toUpperCase()} (${cards.length})`);
    for (const t of cards) {
      const note = describeTaskState(t, now, statusOf, pausedProfile);
      out.push(
        `  #${t.id} ${oneLine(t.title, 50)}${t.assignee ? ` @${t.assignee}` : ''}${note ? ` — ${noteCell(note, 60)}` : ''}`,
      );
    }
  }
  return out.length > 0 ? out.join('\n') : 'the board is empty';
}
