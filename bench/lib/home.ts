/**
 * A throwaway warden home for one benchmark: the real CLI for setup, a real `warden serve`
 * subprocess, and the same SQLite file opened in the benchmark process (SQLite allows a
 * second connection beside `serve`; its commits wake `serve` through `data_version`).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SqliteStore } from '../../src/store/sqlite/open.js';
import type { Warden } from './dist.js';
import { waitFor } from './time.js';

export const WARDEN_BIN = fileURLToPath(new URL('../../bin/warden.js', import.meta.url));
export const SHIM = fileURLToPath(new URL('../../libexec/warden-shim', import.meta.url));

/** A running `warden serve`. */
export interface Serve {
  proc: ChildProcess;
  url: string;
  output(): string;
  /** SIGTERM (workers keep running) and wait for the process to exit. */
  stop(): Promise<void>;
}

function withoutWardenVars(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env)) if (!k.startsWith('WARDEN_')) out[k] = v;
  return out;
}

function exited(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => proc.once('exit', () => resolve()));
}

/**
 * Every `serve` a benchmark started and that has not exited. A benchmark stopped early (Ctrl-C,
 * `timeout`) must not leave them behind: one kept polling its database and skewed the next
 * benchmark's figures. bench/run.ts turns SIGINT and SIGTERM into an exit, which ends them.
 */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const proc of live) proc.kill('SIGTERM');
});

export class BenchHome {
  readonly root = mkdtempSync(join(tmpdir(), 'warden-bench-'));
  readonly env: NodeJS.ProcessEnv = { ...withoutWardenVars(process.env), WARDEN_HOME: this.root };
  private readonly serves: Serve[] = [];
  private storeHandle: SqliteStore | null = null;
  private readonly warden: Warden;

  constructor(warden: Warden) {
    this.warden = warden;
  }

  /** The folder of one run (the shim writes `worker.pid` and `exit` there). */
  runDir(runId: number): string {
    return join(this.root, 'runs', String(runId));
  }

  /** Runs `warden ARGS...`; fails unless it exits 0. */
  cli(args: readonly string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [WARDEN_BIN, ...args], {
        env: this.env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
      child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
      child.on('error', reject);
      child.on('close', (code) =>
        code === 0
          ? resolve(out)
          : reject(new Error(`warden ${args.join(' ')} exited ${code}: ${err}`)),
      );
    });
  }

  async init(): Promise<void> {
    await this.cli(['init', '--name', 'bench']);
  }

  /** Adds a profile running `argv` (no shell), with policy options before the `--`. */
  async profile(
    name: string,
    argv: readonly string[],
    options: readonly string[] = [],
  ): Promise<void> {
    await this.cli(['profile', 'add', name, ...options, '--', ...argv]);
  }

  /**
   * Starts `warden serve --port 0 --tick 1s ARGS...` and waits until it listens. `node` holds
   * options for Node itself and `env` extra variables (for experiments).
   */
  async serve(
    args: readonly string[] = [],
    extra: { node?: readonly string[]; env?: NodeJS.ProcessEnv } = {},
  ): Promise<Serve> {
    const proc = spawn(
      process.execPath,
      [...(extra.node ?? []), WARDEN_BIN, 'serve', '--port', '0', '--tick', '1s', ...args],
      { env: { ...this.env, ...extra.env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    live.add(proc);
    proc.once('exit', () => live.delete(proc));
    let out = '';
    proc.stdout?.setEncoding('utf8').on('data', (c: string) => (out += c));
    proc.stderr?.setEncoding('utf8').on('data', (c: string) => (out += c));
    const serve: Serve = {
      proc,
      url: '',
      output: () => out,
      stop: async () => {
        if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
        await exited(proc);
        clearTimeout(timer);
      },
    };
    this.serves.push(serve);
    serve.url = await waitFor(
      'serve to listen',
      () => {
        if (proc.exitCode !== null) throw new Error(`serve exited ${proc.exitCode}: ${out}`);
        return /warden serve: (\S+)/.exec(out)?.[1];
      },
      20_000,
      20,
    );
    return serve;
  }

  /** Stops every `serve` started so far (workers keep running). */
  async stopServes(): Promise<void> {
    for (const s of this.serves) await s.stop();
  }

  /** The home's store, opened in this process. */
  async store(): Promise<SqliteStore> {
    this.storeHandle ??= await this.warden.openSqliteStore(
      join(this.root, 'warden.db'),
      this.warden.systemClock,
    );
    return this.storeHandle;
  }

  /**
   * Stops every serve, kills the process group of every run that is still alive (checked by
   * process identity, so a reused pid is never signalled) and removes the home.
   */
  async cleanup(): Promise<void> {
    await this.stopServes();
    if (this.storeHandle) {
      const store = this.storeHandle;
      const tasks = await store.listTasks({ include_archived: true, limit: 100_000 });
      for (const t of tasks) {
        for (const r of await store.listRuns(t.id)) {
          if (r.process !== null && this.warden.isSameProcessAlive(r.process)) {
            this.warden.signalGroup(r.process.pid, 'SIGKILL');
          }
        }
      }
      await store.close();
    }
    await this.removeCgroups();
    rmSync(this.root, { recursive: true, force: true });
  }

  /**
   * Removes the cgroups of the home's runs (named in each run's folder), once the processes
   * killed above have left them: `serve`, stopped first, closed none of these runs, and a
   * cgroup outlives its home otherwise.
   */
  private async removeCgroups(): Promise<void> {
    const runs = join(this.root, 'runs');
    if (!existsSync(runs)) return;
    for (const id of readdirSync(runs)) {
      const cgroup = this.warden.readCgroupFile(join(runs, id));
      if (cgroup === null) continue;
      // A process that outlived its kill keeps its cgroup, which is then left as it is.
      await waitFor(
        `run ${id}'s cgroup empty`,
        () => ((this.warden.cgroupMembers(cgroup)?.length ?? 0) === 0 ? true : undefined),
        5000,
      ).catch(() => undefined);
      this.warden.removeCgroup(cgroup);
    }
  }
}
