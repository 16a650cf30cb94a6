/**
 * Git worktree workspaces (issue #12, docs/worktrees.md) with real repositories in temp folders
 * and real workers under `serve`: a worktree and a branch per task, evidence at every ending, the
 * rescue ref of a killed run's uncommitted edits, a retry in the same worktree, a setup that
 * fails, `warden diff`, archive's cleanup, and workspace changes as progress.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Run } from '../../src/core/run.js';
import type { WorktreeRecord } from '../../src/core/worktree.js';
import { git, makeRepo as makeTestRepo } from '../helpers/git.js';
import { TestHome, fixture, waitFor } from '../helpers/host.js';

let home: TestHome;
const repos: string[] = [];
afterEach(async () => {
  await home.cleanup();
  for (const r of repos.splice(0)) rmSync(r, { recursive: true, force: true });
});

/** A repository with one commit (README) on main, removed after the test. */
function makeRepo(): string {
  const dir = makeTestRepo();
  repos.push(dir);
  return dir;
}

/** The worktrees git lists for a repository. */
function worktreePaths(repo: string): string[] {
  return git(repo, 'worktree', 'list', '--porcelain')
    .split('\n')
    .filter((l) => l.startsWith('worktree '))
    .map((l) => l.slice('worktree '.length));
}

function adminToken(): string {
  return readFileSync(join(home.root, 'admin.token'), 'utf8').trim();
}

async function api<T>(url: string, path: string): Promise<T> {
  const res = await fetch(`${url}/api/v1${path}`, {
    headers: { authorization: `Bearer ${adminToken()}` },
  });
  expect(res.status, `${path}: ${await res.clone().text()}`).toBe(200);
  return (await res.json()) as T;
}

describe('git worktree workspaces (issue #12)', () => {
  it('runs two tasks at once, each in its own worktree on its own branch; the evidence is in runs, show --json and the API; diff and archive', async () => {
    home = await new TestHome().init();
    const repo = makeRepo();
    const base = git(repo, 'rev-parse', 'HEAD');
    const barrier = join(home.root, 'barrier');
    mkdirSync(barrier);
    await home.profile('coder', fixture('worktree-worker.sh', 'commit', '2'), [
      '--workspace',
      `worktree:${repo}`,
      '--max-concurrency',
      '2',
    ]);
    const a = await home.task('first', ['--assignee', 'coder']);
    const b = await home.task('second', ['--assignee', 'coder']);
    const serve = await home.serve([], { RUN_ENV_DIR: barrier });
    // Each waits for the other to start before committing: both ran at once.
    await home.waitStatus(a, 'done', 60_000);
    await home.waitStatus(b, 'done', 60_000);

    const store = await home.store();
    for (const id of [a, b]) {
      const wt = (await store.getWorktree(id)) as WorktreeRecord;
      expect(wt).toMatchObject({
        path: join(home.root, 'worktrees', String(id)),
        branch: `warden/${id}`,
        base_sha: base,
        repo,
        removed_at: null,
      });
      const [run] = await home.runs(id);
      expect(run?.cwd).toBe(wt.path);
      const log = readFileSync(run?.log_path ?? '', 'utf8');
      expect(log).toContain(`cwd ${wt.path} branch warden/${id}`);
      expect(run?.evidence).toMatchObject({
        branch: `warden/${id}`,
        base,
        head: git(repo, 'rev-parse', `warden/${id}`),
        commits: 1,
        commit_list: [{ subject: `task ${id}` }],
        diffstat: { files: 1, insertions: 1, deletions: 0 },
        rescue: null,
      });
      expect(run?.evidence?.error).toBeUndefined();
      // Its branch has its own commit only.
      expect(git(repo, 'show', '--stat', '--format=', `warden/${id}`)).toContain(`task-${id}.txt`);
      expect(git(repo, 'show', '--stat', '--format=', `warden/${id}`)).not.toContain(
        `task-${id === a ? b : a}.txt`,
      );
    }
    expect(worktreePaths(repo)).toHaveLength(3);

    // The evidence where people read it: warden runs, show --json, the API.
    const runsText = await home.ok(['runs', String(a)]);
    expect(runsText).toContain(`worktree: warden/${a} ${base.slice(0, 10)}..`);
    expect(runsText).toContain('1 commit; 1 file +1 -0');
    const shown = JSON.parse(await home.ok(['show', String(a), '--json'])) as {
      runs: Run[];
      worktree: WorktreeRecord;
    };
    expect(shown.runs[0]?.evidence?.commits).toBe(1);
    expect(shown.worktree.branch).toBe(`warden/${a}`);
    const viaApi = await api<{ runs: Run[]; worktree: WorktreeRecord }>(serve.url, `/tasks/${a}`);
    expect(viaApi.runs[0]?.evidence?.diffstat).toEqual({ files: 1, insertions: 1, deletions: 0 });
    expect(viaApi.worktree.base_sha).toBe(base);
    const diffApi = await api<{ stat: string; diff: string }>(serve.url, `/tasks/${a}/diff`);
    expect(diffApi.stat).toContain(`task-${a}.txt`);
    expect(diffApi.diff).toContain(`+work of task ${a}`);

    // warden diff: the worktree as it is now, uncommitted and untracked files included.
    writeFileSync(join(home.root, 'worktrees', String(a), 'later.txt'), 'added by hand\n');
    expect(await home.ok(['diff', String(a), '--stat'])).toMatch(/later\.txt[\s\S]*task-\d+\.txt/);
    const diff = await home.ok(['diff', String(a)]);
    expect(diff).toContain('+added by hand');
    expect(diff).toContain(`+work of task ${a}`);

    // Archive removes the worktree and keeps the branch; --delete-branch deletes it too.
    const archived = await home.ok(['archive', String(a)]);
    expect(archived).toContain(`its branch warden/${a} stays`);
    // The file added by hand since the run's ending is saved before the worktree goes.
    const saved =
      /its uncommitted changes, 1 file, are in (refs\/warden\/rescue\/\d+\/archived-\d+)\)/.exec(
        archived,
      )?.[1];
    expect(saved, archived).toMatch(new RegExp(`^refs/warden/rescue/${a}/`));
    expect(git(repo, 'show', `${saved}:later.txt`)).toBe('added by hand');
    expect(existsSync(join(home.root, 'worktrees', String(a)))).toBe(false);
    expect(git(repo, 'branch', '--list', `warden/${a}`)).toContain(`warden/${a}`);
    await home.ok(['archive', String(b), '--delete-branch']);
    expect(existsSync(join(home.root, 'worktrees', String(b)))).toBe(false);
    expect(git(repo, 'branch', '--list', `warden/${b}`)).toBe('');
    expect(worktreePaths(repo)).toEqual([repo]);
    expect((await store.getWorktree(a))?.removed_at).not.toBeNull();
    const removed = (await home.events(b)).find((e) => e.kind === 'worktree_removed');
    expect(removed?.payload).toMatchObject({ branch_deleted: true });
    // The diff of an archived task comes from its branch, which stayed.
    expect(await home.ok(['diff', String(a), '--stat'])).toContain(`task-${a}.txt`);
    // Its branch deleted (the usual end once merged): one line, not an internal error.
    const gone = await home.cli(['diff', String(b)]);
    expect(gone.code, gone.stderr).toBe(3);
    expect(gone.stderr).toBe(
      `warden: task ${b}'s worktree was removed and its branch warden/${b} is gone from ${repo} (deleted, or merged and deleted); there is nothing left here to diff\n`,
    );
  }, 120_000);

  it("keeps a SIGKILLed run's uncommitted edits in its rescue ref, and the retry continues in the same worktree; setup runs once", async () => {
    home = await new TestHome().init();
    const repo = makeRepo();
    const base = git(repo, 'rev-parse', 'HEAD');
    const counts = join(home.root, 'setup-count');
    mkdirSync(counts);
    await home.profile('coder', fixture('worktree-worker.sh', 'kill-first'), [
      '--workspace',
      `worktree:${repo}@main`,
      '--setup',
      'echo "$WARDEN_RUN_ID" >> "$RUN_ENV_DIR/setups"; echo installed',
      '--backoff-base',
      '200ms',
    ]);
    const id = await home.task('survive a kill', ['--assignee', 'coder']);
    await home.serve([], { RUN_ENV_DIR: counts });
    const first = await waitFor(
      'attempt 1 to write its edits',
      async () => {
        const [r] = await home.runs(id);
        const log = r?.log_path && existsSync(r.log_path) ? readFileSync(r.log_path, 'utf8') : '';
        const pid = /pid (\d+)/.exec(log)?.[1];
        return r && pid && log.includes('edits written') ? { run: r, pid: Number(pid) } : undefined;
      },
      30_000,
    );
    process.kill(first.pid, 'SIGKILL');
    await home.waitStatus(id, 'done', 60_000);

    const [killed, retry] = await home.runs(id);
    expect(killed).toMatchObject({ outcome: 'crashed', signal: 'SIGKILL' });
    const ref = `refs/warden/rescue/${id}/${killed?.id}`;
    expect(killed?.evidence?.rescue).toMatchObject({ ref, files: 2 });
    expect(killed?.reason?.message).toContain(ref);
    // The rescue commit holds both edits, tracked and untracked; the branch never got it.
    expect(git(repo, 'show', `${ref}:notes.txt`)).toBe('notes of attempt 1');
    expect(git(repo, 'show', `${ref}:README`)).toBe('hello\nedited by attempt 1');
    expect(git(repo, 'rev-parse', `${ref}^`)).toBe(base);
    expect(killed?.evidence).toMatchObject({ base, head: base, commits: 0 });
    // The retry ran in the same worktree and found what attempt 1 left.
    expect(retry?.cwd).toBe(killed?.cwd);
    expect(readFileSync(retry?.log_path ?? '', 'utf8')).toContain('committed what attempt 1 left');
    expect(retry?.evidence).toMatchObject({ commits: 1, rescue: null });
    expect(git(repo, 'show', `warden/${id}:notes.txt`)).toBe('notes of attempt 1');
    // The setup ran once, for the first attempt; its output went to its own log.
    expect(readFileSync(join(counts, 'setups'), 'utf8').trim()).toBe(String(killed?.id));
    const wt = join(home.root, 'worktrees', String(id));
    expect(readFileSync(`${wt}.setup.log`, 'utf8')).toBe('installed\n');
  }, 120_000);

  it('runs the setup again in a worktree made again after it was deleted by hand', async () => {
    home = await new TestHome().init();
    const repo = makeRepo();
    const counts = join(home.root, 'setup-count');
    mkdirSync(counts);
    await home.profile('coder', fixture('worktree-worker.sh', 'setup-check'), [
      '--workspace',
      `worktree:${repo}`,
      '--setup',
      'echo "$WARDEN_RUN_ID" >> "$RUN_ENV_DIR/setups"; touch .setup-ran',
      '--backoff-base',
      '200ms',
    ]);
    const id = await home.task('set up twice', ['--assignee', 'coder']);
    await home.serve([], { RUN_ENV_DIR: counts });
    const pid = await waitFor('attempt 1 to see its setup', async () => {
      const [r] = await home.runs(id);
      const log = r?.log_path && existsSync(r.log_path) ? readFileSync(r.log_path, 'utf8') : '';
      const found = /pid (\d+)/.exec(log)?.[1];
      return found && log.includes('setup seen') ? Number(found) : undefined;
    });
    // A person deletes the worktree, and the worker dies with it.
    rmSync(join(home.root, 'worktrees', String(id)), { recursive: true, force: true });
    process.kill(pid, 'SIGKILL');
    await home.waitStatus(id, 'done', 60_000);
    const [first, second] = await home.runs(id);
    expect(readFileSync(second?.log_path ?? '', 'utf8')).toContain('setup seen again');
    // The setup ran for each checkout: the first, and the one made again.
    expect(readFileSync(join(counts, 'setups'), 'utf8').trim().split('\n')).toEqual([
      String(first?.id),
      String(second?.id),
    ]);
  }, 90_000);

  it('lets the ending proceed when git fails, and records why the evidence is incomplete', async () => {
    home = await new TestHome().init();
    const repo = makeRepo();
    // The worker breaks its worktree's link to the repository, then exits 0.
    await home.profile(
      'breaker',
      ['sh', '-c', 'rm .git && echo broke it'],
      ['--workspace', `worktree:${repo}`],
    );
    const id = await home.task('break git', ['--assignee', 'breaker']);
    await home.serve();
    await home.waitStatus(id, 'done', 30_000);
    const [run] = await home.runs(id);
    expect(run?.outcome).toBe('completed');
    expect(run?.evidence).toMatchObject({ head: null, rescue: null });
    expect(run?.evidence?.error).toMatch(/^rescue: .*not a git repository/);
    expect(run?.reason?.message).toContain('evidence incomplete: rescue:');
  }, 60_000);

  it('blocks the task when its setup fails, with the end of the setup log in the reason', async () => {
    home = await new TestHome().init();
    const repo = makeRepo();
    await home.profile('coder', fixture('worktree-worker.sh', 'commit', '1'), [
      '--workspace',
      `worktree:${repo}`,
      '--setup',
      'echo step one; echo "npm ERR! missing package.json" >&2; exit 3',
    ]);
    const id = await home.task('cannot set up', ['--assignee', 'coder']);
    const serve = await home.serve();
    const task = await home.waitStatus(id, 'blocked', 30_000);
    expect(task.block_reason).toContain('setup `echo step one;');
    expect(task.block_reason).toContain('failed (exit 3)');
    expect(task.block_reason).toContain('npm ERR! missing package.json');
    const [run] = await home.runs(id);
    expect(run).toMatchObject({ outcome: 'config_error', reason: { rule: 'setup_failed' } });
    // The worker itself never ran: no commit.
    expect(run?.evidence).toMatchObject({ commits: 0, rescue: null });

    // Archived through the API (as the dashboard does): serve's sweep removes the worktree and
    // the setup's files; the branch stays.
    const res = await fetch(`${serve.url}/api/v1/tasks/${id}/move`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ verb: 'archive' }),
    });
    expect(res.status).toBe(200);
    await home.waitEvent('worktree_removed', id, 30_000);
    const wt = join(home.root, 'worktrees', String(id));
    expect(existsSync(wt)).toBe(false);
    expect(existsSync(`${wt}.setup.log`)).toBe(false);
    expect(worktreePaths(repo)).toEqual([repo]);
    expect(git(repo, 'branch', '--list', `warden/${id}`)).toContain(`warden/${id}`);
  }, 60_000);

  it('counts file changes in the workspace as progress: a silent worker that edits files is not stalled', async () => {
    home = await new TestHome().init();
    const repo = makeRepo();
    const limits = ['--stall-warn-after', '1500ms', '--stall-timeout', '3s', '--max-failures', '1'];
    // The same silent worker twice: with the workspace watched (the default of a worktree)...
    await home.profile('watched', fixture('worktree-worker.sh', 'touch', '7'), [
      '--workspace',
      `worktree:${repo}`,
      ...limits,
    ]);
    // ...and without: its only output is its first line, so it stalls.
    await home.profile('blind', fixture('worktree-worker.sh', 'touch', '7'), [
      '--workspace',
      `worktree:${repo}`,
      '--no-progress-from-workspace',
      ...limits,
    ]);
    // A plain folder workspace, opted in: its files are sampled by a walk.
    await home.profile('folder', fixture('worktree-worker.sh', 'touch', '7'), [
      '--progress-from-workspace',
      ...limits,
    ]);
    const watched = await home.task('edits quietly', ['--assignee', 'watched']);
    const blind = await home.task('edits unseen', ['--assignee', 'blind']);
    const plain = await home.task('edits a folder', ['--assignee', 'folder']);
    await home.serve();
    await home.waitStatus(watched, 'done', 60_000);
    const [ok] = await home.runs(watched);
    expect(ok?.outcome).toBe('completed');
    await home.waitStatus(plain, 'done', 60_000);
    expect((await home.runs(plain))[0]?.outcome).toBe('completed');
    await waitFor('the unwatched run to end', async () => (await home.runs(blind))[0]?.outcome);
    expect((await home.runs(blind))[0]?.outcome).toBe('stalled');
  }, 90_000);
});

describe('work left off the branch', () => {
  it("diff says when a done task's last run left uncommitted work, which is not on its branch", async () => {
    home = await new TestHome().init();
    const repo = makeRepo();
    // Writes a file, commits nothing, exits 0: done, its work uncommitted.
    await home.profile(
      'sloppy',
      ['sh', '-c', 'echo work >scratch.txt'],
      ['--workspace', `worktree:${repo}`],
    );
    const id = await home.task('edits, commits nothing', ['--assignee', 'sloppy']);
    await home.serve();
    await home.waitStatus(id, 'done', 60_000);
    const [run] = await home.runs(id);
    const note = `note: run ${run?.id} left uncommitted changes (1 path) that are not on branch warden/${id}: they are in refs/warden/rescue/${id}/${run?.id} (git -C ${repo} diff warden/${id} refs/warden/rescue/${id}/${run?.id})\n`;
    const live = await home.cli(['diff', String(id), '--stat']);
    expect(live.code, live.stderr).toBe(0);
    expect(live.stdout).toContain('scratch.txt');
    expect(live.stderr).toBe(note);
    // Archived, the worktree is gone and the branch diffs empty: the note still says where.
    await home.ok(['archive', String(id)]);
    const after = await home.cli(['diff', String(id), '--stat']);
    expect(after).toEqual({ code: 0, stdout: '', stderr: note });
    expect(git(repo, 'log', '--format=%s', `main..warden/${id}`)).toBe('');
  }, 60_000);
});

describe('worktree bad input (issue #12): one line, its exit code, nothing created', () => {
  it('refuses a REPO that is not a git repository (2) and a BASE that does not exist (3)', async () => {
    home = await new TestHome().init();
    const plain = mkdtempSync(join(tmpdir(), 'warden-plain-'));
    repos.push(plain);
    const notRepo = await home.cli([
      'profile',
      'add',
      'p',
      '--workspace',
      `worktree:${plain}`,
      '--',
      'true',
    ]);
    expect(notRepo.code).toBe(2);
    expect(notRepo.stderr.trim().split('\n')).toHaveLength(1);
    expect(notRepo.stderr).toContain(`'${plain}' is not a git repository`);
    const repo = makeRepo();
    const noBase = await home.cli([
      'profile',
      'add',
      'p',
      '--workspace',
      `worktree:${repo}@nope`,
      '--',
      'true',
    ]);
    expect(noBase.code).toBe(3);
    expect(noBase.stderr.trim().split('\n')).toHaveLength(1);
    expect(noBase.stderr).toContain("BASE 'nope' is not a commit, branch or tag");
    const relative = await home.cli([
      'profile',
      'add',
      'p',
      '--workspace',
      'worktree:repo',
      '--',
      'true',
    ]);
    expect(relative.code).toBe(2);
    expect(relative.stderr).toContain('must be an absolute path');
    const withCwd = await home.cli([
      'profile',
      'add',
      'p',
      '--workspace',
      `worktree:${repo}`,
      '--cwd',
      '/tmp',
      '--',
      'true',
    ]);
    expect(withCwd.code).toBe(2);
    expect(withCwd.stderr).toBe(
      "warden: worktree: a worktree workspace is the worker's cwd: drop --cwd (or use --workspace folder)\n",
    );
    // Each misfit is named alone: no --cwd is mentioned where none was given.
    const setupAlone = await home.cli(['profile', 'add', 'p', '--setup', 'npm ci', '--', 'true']);
    expect(setupAlone.code).toBe(2);
    expect(setupAlone.stderr).toBe(
      "warden: worktree: --setup runs in a task's worktree: give --workspace worktree:REPO with it, or drop --setup\n",
    );
    const pulled = await home.cli([
      'profile',
      'add',
      'p',
      '--pull',
      '--workspace',
      `worktree:${repo}`,
    ]);
    expect(pulled.code).toBe(2);
    expect(pulled.stderr).toMatch(/a pull profile cannot have one/);
    expect(await (await home.store()).listProfiles()).toEqual([]);
    // An edit is refused the same way and changes nothing.
    await home.profile('p', ['true']);
    const edit = await home.cli(['profile', 'edit', 'p', '--workspace', `worktree:${repo}@nope`]);
    expect(edit.code).toBe(3);
    expect((await (await home.store()).getProfile('p')).version).toBe(1);
  }, 60_000);

  it('holds off a task whose worktree another host made: the task blocks, naming that host', async () => {
    home = await new TestHome().init();
    const repo = makeRepo();
    await home.profile('coder', fixture('worktree-worker.sh', 'commit', '1'), [
      '--workspace',
      `worktree:${repo}`,
    ]);
    const id = await home.task('made elsewhere', ['--assignee', 'coder']);
    const store = await home.store();
    await store.recordWorktree(
      {
        task_id: id,
        host_id: 'other-host',
        repo,
        path: '/elsewhere/worktrees/1',
        branch: `warden/${id}`,
        base_sha: git(repo, 'rev-parse', 'HEAD'),
      },
      { kind: 'person', name: 'tester' },
    );
    await home.serve();
    const task = await home.waitStatus(id, 'blocked', 30_000);
    expect(task.block_reason).toContain(
      'on host other-host, and a worktree belongs to the host that made it',
    );
    expect(worktreePaths(repo)).toEqual([repo]);
  }, 60_000);

  it("blocks a task whose branch warden/<id> is another worktree's, and makes nothing", async () => {
    home = await new TestHome().init();
    const repo = makeRepo();
    await home.profile('coder', fixture('worktree-worker.sh', 'commit', '1'), [
      '--workspace',
      `worktree:${repo}`,
    ]);
    const id = await home.task('taken branch', ['--assignee', 'coder']);
    const other = join(mkdtempSync(join(tmpdir(), 'warden-other-')), 'wt');
    repos.push(other);
    git(repo, 'worktree', 'add', '-q', '-b', `warden/${id}`, other);
    await home.serve();
    const task = await home.waitStatus(id, 'blocked', 30_000);
    expect(task.block_reason).toContain(
      `branch warden/${id} is already checked out in the worktree ${other}`,
    );
    expect(await (await home.store()).getWorktree(id)).toBeNull();
    expect(existsSync(join(home.root, 'worktrees', String(id)))).toBe(false);
    expect(worktreePaths(repo)).toEqual([repo, other]);
  }, 60_000);

  it("tries again later, not blocked, when another git's lock outlasts the wait: the run ends spawn_failed, naming the lock file", async () => {
    home = await new TestHome().init();
    const repo = makeRepo();
    await home.profile('coder', fixture('worktree-worker.sh', 'touch', '1'), [
      '--workspace',
      `worktree:${repo}`,
      '--backoff-base',
      '1s',
    ]);
    const id = await home.task('locked repository', ['--assignee', 'coder']);
    // A person's git (or one that crashed) holds the lock of the task's branch to be.
    const lock = join(repo, '.git', 'refs', 'heads', 'warden', `${id}.lock`);
    mkdirSync(join(repo, '.git', 'refs', 'heads', 'warden'), { recursive: true });
    writeFileSync(lock, '');
    await home.serve();
    const first = await waitFor('the first run to end', async () => {
      const [r] = await home.runs(id);
      return r?.outcome ?? undefined;
    });
    rmSync(lock);
    expect(first).toBe('spawn_failed');
    await home.waitStatus(id, 'done', 60_000);
    const [failed, ...later] = await home.runs(id);
    expect(failed?.reason?.message).toMatch(
      new RegExp(
        `^worktree: .*warden/${id}\\.lock': File exists\\. \\(another git is working in this repository, or one that crashed left the file: remove it if no git is running\\)$`,
      ),
    );
    expect(later.at(-1)?.outcome).toBe('completed');
    // Never blocked on the way: the lock was not taken for a configuration error.
    expect((await home.events(id)).map((e) => e.kind)).not.toContain('task_blocked');
    expect(git(repo, 'branch', '--list', `warden/${id}`)).toContain(`warden/${id}`);
  }, 90_000);
});
