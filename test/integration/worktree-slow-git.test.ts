/**
 * A worktree whose checkout is slow (a smudge filter, as Git LFS is) under a real `serve`: it
 * holds up no other task's start, `serve` stopping kills its git and puts the task back in line,
 * and the next attempt makes the worktree whole instead of using what the killed checkout left.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { pidAlive } from '../../src/os/procfs.js';
import { git, slowCheckoutRepo } from '../helpers/git.js';
import { WARDEN_BIN } from '../helpers/cli.js';
import { TestHome, fixture, waitFor, writtenPid } from '../helpers/host.js';

let home: TestHome;
let repo = '';
afterEach(async () => {
  await home.cleanup();
  rmSync(repo, { recursive: true, force: true });
});

/** A slow-checkout repository (test/helpers/git.ts), removed after the test. */
function slowCheckout(dir: string): { started: string; fast: string } {
  const slow = slowCheckoutRepo(dir);
  repo = slow.repo;
  return slow;
}

function worktreePaths(): string[] {
  return git(repo, 'worktree', 'list', '--porcelain')
    .split('\n')
    .filter((l) => l.startsWith('worktree '))
    .map((l) => l.slice('worktree '.length));
}

it('makes a slow worktree aside from other starts; serve stopping kills its git and the retry makes it whole', async () => {
  home = await new TestHome().init();
  const slow = slowCheckout(home.root);
  await home.profile(
    'coder',
    ['sh', '-c', 'echo "data: $(cat data.bin)"'],
    ['--workspace', `worktree:${repo}`, '--backoff-base', '200ms'],
  );
  await home.profile('plain', fixture('short-job.sh'));
  const coding = await home.task('check out slowly', ['--assignee', 'coder']);
  const serve = await home.serve();
  const filterPid = await waitFor('the checkout to reach the filter', () =>
    writtenPid(slow.started),
  );

  // Another task starts and ends while the worktree is still being checked out.
  const plain = await home.task('quick', ['--assignee', 'plain']);
  await home.waitStatus(plain, 'done', 30_000);
  expect(pidAlive(filterPid)).toBe(true);

  // serve stops promptly: the checkout's git and its filter are killed, not waited for.
  serve.proc.kill('SIGTERM');
  expect(await serve.exited).toBe(0);
  expect(serve.output()).not.toContain('stop: the starts');
  expect(pidAlive(filterPid)).toBe(false);
  const [stopped] = await home.runs(coding);
  expect(stopped).toMatchObject({ outcome: 'host_lost' });
  expect(stopped?.reason?.message).toBe('serve stopped before the worker was started');
  expect((await home.getTask(coding)).status).toBe('ready');
  // What the killed checkout made is gone, its new branch too.
  expect(worktreePaths()).toEqual([repo]);
  expect(git(repo, 'branch', '--list', `warden/${coding}`)).toBe('');
  expect(existsSync(join(home.root, 'worktrees', String(coding)))).toBe(false);

  // The next serve makes the worktree again, whole.
  writeFileSync(slow.fast, '');
  await home.serve();
  await home.waitStatus(coding, 'done', 60_000);
  const [, done] = await home.runs(coding);
  expect(readFileSync(done?.log_path ?? '', 'utf8')).toContain('data: the whole file');
}, 120_000);

it('stops for a person a run whose worktree is being made: its git is killed, nothing is left, the task blocks', async () => {
  home = await new TestHome().init();
  const slow = slowCheckout(home.root);
  await home.profile('coder', ['sh', '-c', 'echo started'], ['--workspace', `worktree:${repo}`]);
  const id = await home.task('check out slowly', ['--assignee', 'coder']);
  await home.serve();
  const filterPid = await waitFor('the checkout to reach the filter', () =>
    writtenPid(slow.started),
  );
  const stop = await home.cli(['stop', String(id), '--json']);
  expect(stop.stderr).toBe('');
  expect(stop.code).toBe(0);
  expect(JSON.parse(stop.stdout)).toMatchObject({ outcome: 'stopped', verified_gone: true });
  expect(pidAlive(filterPid)).toBe(false);
  const [run] = await home.runs(id);
  expect(run).toMatchObject({ outcome: 'stopped', log_path: null });
  expect(run?.reason).toMatchObject({ rule: 'stopped_by', by: 'tester' });
  expect((await home.getTask(id)).status).toBe('blocked');
  expect(worktreePaths()).toEqual([repo]);
  expect(git(repo, 'branch', '--list', `warden/${id}`)).toBe('');
}, 120_000);

it('dispatch --once stopped by Ctrl-C while a worktree is made: its git is killed, the task goes back in line, exit 130', async () => {
  home = await new TestHome().init();
  const slow = slowCheckout(home.root);
  await home.profile('coder', ['sh', '-c', 'echo started'], ['--workspace', `worktree:${repo}`]);
  const id = await home.task('check out slowly', ['--assignee', 'coder']);
  const once = spawn(process.execPath, [WARDEN_BIN, 'dispatch', '--once'], {
    env: home.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  once.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  once.stderr.setEncoding('utf8').on('data', (c: string) => (out += c));
  const exited = new Promise<number | null>((resolve) => once.on('exit', (code) => resolve(code)));
  const filterPid = await waitFor('the checkout to reach the filter', () =>
    writtenPid(slow.started),
  );
  once.kill('SIGINT');
  expect(await exited).toBe(130);
  expect(out).toContain('started 0 workers');
  expect(out).toContain('warden: stopped by SIGINT');
  expect(pidAlive(filterPid)).toBe(false);
  const [run] = await home.runs(id);
  expect(run).toMatchObject({ outcome: 'host_lost' });
  expect((await home.getTask(id)).status).toBe('ready');
  expect(worktreePaths()).toEqual([repo]);
}, 120_000);
