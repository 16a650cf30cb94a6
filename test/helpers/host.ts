/**
 * A real warden home with a real `warden serve` subprocess and real worker processes, for the
 * dispatcher and supervisor tests. The test reads the same SQLite file to wait on events.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ManualClock } from '../../src/core/clock.js';
import type { WardenEvent } from '../../src/core/events.js';
import type { Run } from '../../src/core/run.js';
import type { Task } from '../../src/core/task.js';
import { openSqliteStore } from '../../src/store/sqlite/open.js';
import type { SqliteStore } from '../../src/store/sqlite/open.js';
import { groupAlive, signalGroup } from '../../src/os/procfs.js';
import { endRunCgroups } from './cgroups.js';
import { firstOverlap, lifeSpans } from './life-spans.js';
import type { LifeLine } from './life-spans.js';
import { WARDEN_BIN, runWarden } from './cli.js';
import type { CliResult } from './cli.js';

/** Where the worker fixtures live. */
export const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

/** `sh FIXTURE ARGS...`, as a profile command. */
export function fixture(name: string, ...args: string[]): string[] {
  return ['sh', join(FIXTURES, name), ...args];
}

/**
 * The variables the fixtures read from `serve`'s environment (where they log, what they
 * answer). Workers inherit only what their profile names (src/core/worker-env.ts), so the
 * profiles of these tests name them; fixtures that log their life skip it silently without.
 */
export const FIXTURE_ENV = ['LIFE_LOG', 'RUN_ENV_DIR', 'PIDS_FILE', 'TOKENS_DIR', 'ANSWERS'];

/** `--inherit-env NAME` for each of the fixtures' variables, as profile options. */
export const INHERIT_FIXTURE_ENV = FIXTURE_ENV.flatMap((name) => ['--inherit-env', name]);

/** A running `warden serve`. */
/**
 * The pid a shim wrote to `path` (`worker.pid`, `shim.pid`), once it is whole: the shell opens
 * the file before it writes, so a read in between finds it empty.
 */
export function writtenPid(path: string): number | undefined {
  if (!existsSync(path)) return undefined;
  const pid = Number(readFileSync(path, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

export interface ServeProcess {
  url: string;
  proc: ChildProcess;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
  output(): string;
}

/** Waits until `check` returns a value other than undefined/false, or fails naming `what`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A throwaway home for one test. */
export class TestHome {
  readonly root = mkdtempSync(join(tmpdir(), 'warden-it-'));
  readonly lifeLog = join(this.root, 'life.log');
  readonly env: NodeJS.ProcessEnv = {
    ...process.env,
    WARDEN_HOME: this.root,
    LIFE_LOG: join(this.root, 'life.log'),
    WARDEN_RETRY_FOR_MS: '20000',
  };
  private readonly serves: ServeProcess[] = [];
  private storeHandle: SqliteStore | null = null;

  /** Runs `warden init` in the home. */
  async init(): Promise<this> {
    await this.ok(['init', '--name', 'tester']);
    return this;
  }

  /** Runs the CLI; fails the test unless it exits 0. */
  async ok(args: readonly string[]): Promise<string> {
    const r = await this.cli(args);
    if (r.code !== 0) throw new Error(`warden ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  }

  /** Runs the CLI and returns what happened. */
  cli(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
    return runWarden(args, { ...this.env, ...env });
  }

  /** Adds a profile running `argv`, with options before the `--`; it inherits FIXTURE_ENV. */
  async profile(
    name: string,
    argv: readonly string[],
    options: readonly string[] = [],
  ): Promise<void> {
    await this.ok(['profile', 'add', name, ...INHERIT_FIXTURE_ENV, ...options, '--', ...argv]);
  }

  /** Creates a task and returns its id. */
  async task(title: string, options: readonly string[] = []): Promise<number> {
    const out = await this.ok(['create', title, ...options, '--json']);
    return (JSON.parse(out) as Task).id;
  }

  /** Starts `warden serve` on a free port with fast test settings; waits until it listens. */
  async serve(args: readonly string[] = [], env: NodeJS.ProcessEnv = {}): Promise<ServeProcess> {
    const proc = spawn(
      process.execPath,
      [WARDEN_BIN, 'serve', '--port', '0', '--tick', '200ms', '--progress-flush', '200ms', ...args],
      { env: { ...this.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    proc.stdout?.setEncoding('utf8').on('data', (c: string) => (out += c));
    proc.stderr?.setEncoding('utf8').on('data', (c: string) => (out += c));
    const exited = new Promise<number | null>((resolve) =>
      proc.on('exit', (code) => resolve(code)),
    );
    const s: ServeProcess = { url: '', proc, exited, output: () => out };
    this.serves.push(s);
    s.url = await waitFor('serve to listen', () => {
      if (proc.exitCode !== null) throw new Error(`serve exited ${proc.exitCode}: ${out}`);
      return /warden serve: (\S+)/.exec(out)?.[1];
    });
    return s;
  }

  /** The home's store, opened in the test process (SQLite allows readers beside `serve`). */
  async store(): Promise<SqliteStore> {
    this.storeHandle ??= await openSqliteStore(join(this.root, 'warden.db'), new ManualClock());
    return this.storeHandle;
  }

  /** Closes the test's own connection (`warden restore` refuses while any process has one). */
  async closeStore(): Promise<void> {
    await this.storeHandle?.close();
    this.storeHandle = null;
  }

  async getTask(id: number): Promise<Task> {
    return (await this.store()).getTask(id);
  }

  async runs(taskId: number): Promise<Run[]> {
    return (await this.store()).listRuns(taskId);
  }

  async events(taskId?: number): Promise<WardenEvent[]> {
    return (await this.store()).listEvents(
      taskId === undefined ? { limit: 10_000 } : { task_id: taskId, limit: 10_000 },
    );
  }

  /** Waits until the task reaches `status`. */
  waitStatus(id: number, status: string, timeoutMs?: number): Promise<Task> {
    return waitFor(
      `task ${id} to be ${status}`,
      async () => {
        const t = await this.getTask(id);
        return t.status === status ? t : undefined;
      },
      timeoutMs,
    );
  }

  /** Waits until an event of `kind` exists (for the task, if given). */
  waitEvent(kind: string, taskId?: number, timeoutMs?: number): Promise<WardenEvent> {
    return waitFor(
      `event ${kind}${taskId === undefined ? '' : ` of task ${taskId}`}`,
      async () => (await this.events(taskId)).find((e) => e.kind === kind),
      timeoutMs,
    );
  }

  /** Lines the workers wrote to the life log: [event, task, run, pid, ms]. */
  lifeLines(): LifeLine[] {
    if (!existsSync(this.lifeLog)) return [];
    return readFileSync(this.lifeLog, 'utf8')
      .trim()
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => {
        const [event, task, run, pid, at] = l.split(' ');
        return {
          event: event ?? '',
          task: Number(task),
          run: Number(run),
          pid: Number(pid),
          at: Number(at),
        };
      });
  }

  /**
   * P3: no two workers of one task were ever alive at once, by the runs' own timestamps and by
   * the start/stop lines the workers wrote themselves.
   */
  async assertNeverTwoAtOnce(): Promise<void> {
    const store = await this.store();
    const tasks = await store.listTasks({ include_archived: true, limit: 10_000 });
    for (const t of tasks) {
      const runs = await store.listRuns(t.id);
      for (let i = 1; i < runs.length; i++) {
        const before = runs[i - 1];
        const after = runs[i];
        if (before?.ended_at === null || (before?.ended_at ?? 0) > (after?.started_at ?? 0)) {
          throw new Error(`task ${t.id}: run ${after?.id} started before run ${before?.id} ended`);
        }
      }
      const lines = this.lifeLines().filter((l) => l.task === t.id);
      const endOf = (runId: number): number =>
        runs.find((r) => r.id === runId)?.ended_at ?? Infinity;
      const spans = lifeSpans(lines, endOf);
      if (firstOverlap(spans) !== null) {
        throw new Error(`task ${t.id}: two workers were alive at once (${JSON.stringify(spans)})`);
      }
    }
  }

  /**
   * Stops every serve, checks P3, then fails if any worker process group of this home is still
   * alive (a leaked worker is a bug), killing it either way.
   */
  async cleanup(): Promise<void> {
    for (const s of this.serves) {
      if (s.proc.exitCode === null && s.proc.signalCode === null) s.proc.kill('SIGKILL');
      await s.exited;
    }
    const leaked: number[] = [];
    if (existsSync(join(this.root, 'warden.db'))) {
      await this.assertNeverTwoAtOnce();
      const store = await this.store();
      const tasks = await store.listTasks({ include_archived: true, limit: 10_000 });
      for (const t of tasks) {
        for (const r of await store.listRuns(t.id)) {
          const pid = r.process?.pid;
          if (pid !== undefined && groupAlive(pid)) {
            leaked.push(pid);
            signalGroup(pid, 'SIGKILL');
          }
        }
      }
      await store.close();
    }
    // What is left in a run's cgroup outlived its run: a leak too (a process that left its group).
    const escaped = await endRunCgroups(join(this.root, 'runs'));
    rmSync(this.root, { recursive: true, force: true });
    if (leaked.length > 0) throw new Error(`leaked worker process groups: ${leaked.join(', ')}`);
    if (escaped.length > 0)
      throw new Error(`leaked processes in runs' cgroups: ${escaped.join(', ')}`);
  }
}
