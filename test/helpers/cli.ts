/**
 * Runs the real `warden` executable in a throwaway home: every call is a subprocess, nothing
 * is mocked. Build first (`npm run build`): the executable loads `dist/`.
 */
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect } from 'vitest';
import type { TestContext } from 'vitest';
import { dbSnapshot as snapshot } from './db.js';
import type { DbSnapshot } from './db.js';

export const WARDEN_BIN = fileURLToPath(new URL('../../bin/warden.js', import.meta.url));

export interface CliResult {
  /** The exit code, or -1 when the process was killed by a signal. */
  code: number;
  stdout: string;
  stderr: string;
}

export type { DbSnapshot } from './db.js';

export interface Cli {
  /** The WARDEN_HOME of this home. */
  readonly home: string;
  /** The environment every command runs with. */
  readonly env: NodeJS.ProcessEnv;
  /** Runs `warden ARGS...` and waits for it to exit. */
  run(args: readonly string[]): Promise<CliResult>;
  /**
   * Runs `warden ARGS... --json` (the flag goes before a `--`, so profile commands work),
   * fails unless it exits 0, and parses its standard output.
   */
  json<T = unknown>(args: readonly string[]): Promise<T>;
  /** Starts `warden ARGS...` and returns the running process, for `--follow`. */
  start(args: readonly string[]): ChildProcessWithoutNullStreams;
  /** Reads the whole database read-only. */
  dbSnapshot(): DbSnapshot;
  /** Removes the home. */
  remove(): void;
}

/** Runs the executable with `env` and collects its output. */
export function runWarden(args: readonly string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WARDEN_BIN, ...args], { env, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdin.end();
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

function withJsonFlag(args: readonly string[]): string[] {
  const end = args.indexOf('--');
  return end === -1 ? [...args, '--json'] : [...args.slice(0, end), '--json', ...args.slice(end)];
}

/**
 * Makes a home in a new temporary folder and, unless `init` is false, runs
 * `warden init --name NAME` in it (NAME defaults to `alice`).
 */
export async function createHome(options: { name?: string; init?: boolean } = {}): Promise<Cli> {
  const home = mkdtempSync(join(tmpdir(), 'warden-cli-test-'));
  const env: NodeJS.ProcessEnv = { ...process.env, WARDEN_HOME: home };
  const cli: Cli = {
    home,
    env,
    run: (args) => runWarden(args, env),
    async json<T>(args: readonly string[]): Promise<T> {
      const r = await runWarden(withJsonFlag(args), env);
      if (r.code !== 0) {
        throw new Error(`warden ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
      }
      return JSON.parse(r.stdout) as T;
    },
    start: (args) => spawn(process.execPath, [WARDEN_BIN, ...args], { env, stdio: 'pipe' }),
    dbSnapshot: () => snapshot(join(home, 'warden.db')),
    remove: () => rmSync(home, { recursive: true, force: true }),
  };
  if (options.init ?? true) {
    const r = await cli.run(['init', '--name', options.name ?? 'alice']);
    if (r.code !== 0) {
      cli.remove();
      throw new Error(`warden init failed (${r.code}): ${r.stderr}`);
    }
  }
  return cli;
}

/** A fresh home for one test, removed when the test finishes (safe in concurrent tests). */
export async function freshHome(
  ctx: Pick<TestContext, 'onTestFinished'>,
  options?: { name?: string; init?: boolean },
): Promise<Cli> {
  const cli = await createHome(options);
  ctx.onTestFinished(() => cli.remove());
  return cli;
}

/** One home shared by the tests of the enclosing `describe`; call the result inside a test. */
export function sharedHome(options?: { name?: string }): () => Cli {
  let cli: Cli | undefined;
  beforeAll(async () => {
    cli = await createHome(options);
  });
  afterAll(() => cli?.remove());
  return () => {
    if (!cli) throw new Error('sharedHome() is only ready inside a test');
    return cli;
  };
}

/**
 * Asserts a failed command: the exit code, nothing on standard output and exactly one line
 * `warden: ...` on standard error that matches `message`. `label` names the command in failures.
 */
export function expectError(r: CliResult, code: number, message: RegExp, label?: string): void {
  const oneLine = expect.stringMatching(/^warden: [^\n]+\n$/) as string;
  expect(r, label).toEqual({ code, stdout: '', stderr: oneLine });
  expect(r.stderr, label).toMatch(message);
}
