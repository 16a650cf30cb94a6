/**
 * The warden TypeScript SDK: `createWorker` for pull workers that work tasks with the same
 * guarantees as spawned ones, and `createClient` for people's operations. See docs/sdk.md.
 */
export { createWorker, JobCancelled } from './worker.js';
export type { Job, JobResult, WardenWorker, WorkerOptions } from './worker.js';
export { createClient } from './client.js';
export type {
  BulkFilterInput,
  ClientOptions,
  GraphInput,
  GraphTaskInput,
  TaskDetail,
  WardenClient,
} from './client.js';
export type { ApplyResult, AppliedTask } from '../core/apply.js';
export type { BulkItem, BulkResult, BulkVerb } from '../core/bulk.js';
export type { Inbox, InboxItem, InboxKind } from '../core/inbox.js';
export type { Report, ReportTask } from '../core/report.js';
export { WardenError, ErrorCode } from '../core/errors.js';
export type { Task, NewTask, TaskPatch, Comment } from '../core/task.js';
export type { Run } from '../core/run.js';
export type { WardenEvent, Json } from '../core/events.js';
export type { QuestionAnswer, WorkerContext } from '../core/worker-protocol.js';
export type { EndResult, StopIntent } from '../core/ending.js';
