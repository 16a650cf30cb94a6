import { INPUT_LIMITS } from './defaults.js';
import { invalid } from './errors.js';
import { NAME_PATTERN, NAME_RULE, checkCharacters, checkName } from './checks.js';
import { DEFAULT_BOARD } from './glossary.js';
import type { TaskId } from './glossary.js';
import { dependencyOrder } from './graph.js';
import { parsePolicyOverrides } from './policy.js';
import type { PolicyOverrides } from './policy.js';
import type { TaskStatus } from './status.js';

/**
 * A task graph from a file (`warden apply`, `POST /api/v1/apply`, issue #14): tasks with local
 * names, each after the tasks it waits for, created together in one transaction or not at all.
 *
 * Every task carries an idempotency key, so applying the same graph again creates nothing new:
 * the key it gives (`key`), or `apply:GRAPH/NAME`, where GRAPH is the graph's `name` or, when it
 * has none, `sha-` and a digest of its content (edit a graph without a name and its tasks are new
 * ones; give it a name to keep them across edits). A task whose key an open or done task of the
 * board holds is already there: it is left as it is, never edited or linked.
 */
export interface GraphTask {
  /** The local name, unique in the graph; other tasks name it in `after`. */
  readonly name: string;
  readonly title: string;
  readonly body?: string;
  readonly assignee?: string | null;
  readonly priority?: number;
  /** Local names of the tasks of this graph it waits for. */
  readonly after: readonly string[];
  /** Ids of tasks already on the board it waits for. */
  readonly parents: readonly TaskId[];
  /** Its idempotency key, given or derived. */
  readonly key: string;
  readonly policy?: PolicyOverrides;
  readonly triage?: boolean;
}

/** A checked graph: its tasks in dependency order (every task after the tasks it waits for). */
export interface TaskGraph {
  readonly board: string;
  /** The graph's name, or `sha-` and a digest of its content. */
  readonly name: string;
  readonly tasks: readonly GraphTask[];
}

/** What applying a graph did to one of its tasks. */
export interface AppliedTask {
  name: string;
  /** The task's id; null in a dry run for a task that would be created. */
  id: TaskId | null;
  /** `created` (or, in a dry run, would be), or `exists`: its key is held by that task. */
  result: 'created' | 'exists';
  status: TaskStatus;
  title: string;
  key: string;
}

/** The answer of `warden apply` and `POST /api/v1/apply`. */
export interface ApplyResult {
  board: string;
  graph: string;
  dry_run: boolean;
  created: number;
  existing: number;
  /** In dependency order. */
  tasks: AppliedTask[];
}

const GRAPH_KEYS = ['name', 'board', 'tasks'];
const TASK_KEYS = [
  'name',
  'title',
  'body',
  'assignee',
  'priority',
  'after',
  'key',
  'policy',
  'triage',
];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function refuseUnknownKeys(obj: Record<string, unknown>, known: string[], where: string): void {
  for (const key of Object.keys(obj)) {
    if (!known.includes(key)) {
      throw invalid(`${where}: unknown field '${key}'; use ${known.join(', ')}`);
    }
  }
}

function optional<T>(
  obj: Record<string, unknown>,
  key: string,
  type: string,
  ok: (v: unknown) => v is T,
  where: string,
): T | undefined {
  const value = obj[key];
  if (value === undefined) return undefined;
  if (!ok(value)) throw invalid(`${where}: ${key} must be ${type}`);
  return value;
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isInteger = (v: unknown): v is number => Number.isInteger(v);
const isBoolean = (v: unknown): v is boolean => typeof v === 'boolean';
const isAssignee = (v: unknown): v is string | null => v === null || typeof v === 'string';

/** A 64-bit FNV-1a digest of `text`, as 16 hex digits: names a graph that has no name. */
export function contentDigest(text: string): string {
  let hash = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= BigInt(byte);
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return hash.toString(16).padStart(16, '0');
}

function checkKey(key: string, where: string): string {
  if (key.trim().length === 0) throw invalid(`${where}: key must not be empty`);
  if (key.length > INPUT_LIMITS.idempotency_key_max_chars) {
    throw invalid(
      `${where}: key is ${key.length} characters; an idempotency key may be at most ${INPUT_LIMITS.idempotency_key_max_chars}`,
    );
  }
  checkCharacters(key, `${where}: key`, false);
  return key;
}

interface RawTask {
  name: string;
  title: string;
  body?: string;
  assignee?: string | null;
  priority?: number;
  after: string[];
  parents: TaskId[];
  key?: string;
  policy?: PolicyOverrides;
  triage?: boolean;
}

function parseTask(raw: unknown, index: number): RawTask {
  const at = `tasks[${index}]`;
  if (!isObject(raw)) throw invalid(`${at}: must be an object with a name and a title`);
  if (typeof raw.name !== 'string') throw invalid(`${at}: name must be text`);
  if (!NAME_PATTERN.test(raw.name) || raw.name.length > INPUT_LIMITS.name_max_chars) {
    throw invalid(
      `${at}: name '${raw.name}' is not a local name; ${NAME_RULE}, at most ${INPUT_LIMITS.name_max_chars} characters`,
    );
  }
  const where = `task '${raw.name}'`;
  refuseUnknownKeys(raw, TASK_KEYS, where);
  if (typeof raw.title !== 'string') throw invalid(`${where}: title must be text`);
  const afterRaw =
    raw.after === undefined ? [] : typeof raw.after === 'string' ? [raw.after] : raw.after;
  if (!Array.isArray(afterRaw)) {
    throw invalid(`${where}: after must be a list of task names (or ids of existing tasks)`);
  }
  const after: string[] = [];
  const parents: TaskId[] = [];
  for (const dep of afterRaw) {
    if (typeof dep === 'string') after.push(dep);
    else if (Number.isSafeInteger(dep) && (dep as number) > 0) parents.push(dep as number);
    else throw invalid(`${where}: after must name tasks (or give ids of existing tasks)`);
  }
  const key = optional(raw, 'key', 'text', isString, where);
  const policy = raw.policy === undefined ? undefined : parsePolicyOverrides(raw.policy, where);
  const body = optional(raw, 'body', 'text', isString, where);
  const assignee = optional(raw, 'assignee', 'a profile name or null', isAssignee, where);
  const priority = optional(raw, 'priority', 'a whole number', isInteger, where);
  const triage = optional(raw, 'triage', 'true or false', isBoolean, where);
  return {
    name: raw.name,
    title: raw.title,
    after: [...new Set(after)],
    parents: [...new Set(parents)],
    ...(body !== undefined ? { body } : {}),
    ...(assignee !== undefined ? { assignee } : {}),
    ...(priority !== undefined ? { priority } : {}),
    ...(key !== undefined ? { key: checkKey(key, where) } : {}),
    ...(policy !== undefined ? { policy } : {}),
    ...(triage !== undefined ? { triage } : {}),
  };
}

function checkNamesAndKeys(tasks: readonly RawTask[]): void {
  const names = new Map<string, number>();
  tasks.forEach((t, i) => {
    const first = names.get(t.name);
    if (first !== undefined) {
      throw invalid(
        `task name '${t.name}' is used twice (tasks[${first}] and tasks[${i}]); local names must be unique`,
      );
    }
    names.set(t.name, i);
  });
  for (const t of tasks) {
    for (const dep of t.after) {
      if (!names.has(dep)) {
        throw invalid(`task '${t.name}' is after '${dep}', which is not a task of this file`);
      }
    }
  }
  const keys = new Map<string, string>();
  for (const t of tasks) {
    if (t.key === undefined) continue;
    const other = keys.get(t.key);
    if (other !== undefined) {
      throw invalid(
        `tasks '${other}' and '${t.name}' have the same key '${t.key}'; keys must differ`,
      );
    }
    keys.set(t.key, t.name);
  }
}

/**
 * Checks a graph as read from a file or a request body, before anything is written: its shape,
 * duplicate local names, unknown dependencies, cycles (named), keys over the size limit and
 * the task count. Every problem is one `invalid` line. `board` (a `--board` flag) wins over
 * the graph's own `board`. Profiles, the board and existing parents are checked by the store.
 */
export function parseTaskGraph(raw: unknown, options: { board?: string } = {}): TaskGraph {
  if (!isObject(raw)) throw invalid('the graph must be an object with a list of tasks');
  refuseUnknownKeys(raw, GRAPH_KEYS, 'the graph');
  const name = raw.name === undefined ? undefined : checkName(raw.name, 'name');
  const board = checkName(options.board ?? raw.board ?? DEFAULT_BOARD, 'board');
  if (!Array.isArray(raw.tasks) || raw.tasks.length === 0) {
    throw invalid('tasks: the graph must have a list of at least one task');
  }
  if (raw.tasks.length > INPUT_LIMITS.apply_max_tasks) {
    throw invalid(
      `tasks: ${raw.tasks.length} tasks; one graph may have at most ${INPUT_LIMITS.apply_max_tasks}, split it in several files`,
    );
  }
  const tasks = raw.tasks.map(parseTask);
  checkNamesAndKeys(tasks);
  const ordered = dependencyOrder(tasks);
  // The digest is of the checked content, so the same graph in YAML or JSON gets the same name.
  const graph = name ?? `sha-${contentDigest(JSON.stringify(tasks))}`;
  return {
    board,
    name: graph,
    tasks: ordered.map((t) => ({ ...t, key: t.key ?? `apply:${graph}/${t.name}` })),
  };
}
