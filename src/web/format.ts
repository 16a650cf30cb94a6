import { formatDuration } from '../core/duration.js';
import type { Task } from '../core/task.js';

/** "12s ago", or "never". */
export function ago(now: number, at: number | null | undefined): string {
  return at === null || at === undefined ? 'never' : `${formatDuration(Math.max(0, now - at))} ago`;
}

/** How long since `at`. */
export function since(now: number, at: number): string {
  return formatDuration(Math.max(0, now - at));
}

/** "in 40s". */
export function until(now: number, at: number): string {
  return formatDuration(Math.max(0, at - now));
}

/** Whether a task waits for a person's approval before it may run (issue #14). */
export function awaitsApproval(task: Pick<Task, 'approval' | 'status'>): boolean {
  return (
    task.approval.required &&
    task.approval.at === null &&
    (task.status === 'ready' || task.status === 'todo' || task.status === 'triage')
  );
}
