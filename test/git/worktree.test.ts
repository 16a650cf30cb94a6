/**
 * The git side of worktree workspaces (src/git/worktree.ts) on real repositories in temp
 * folders: parsing --workspace, a rescue that touches neither the branch nor the index, and
 * removing a worktree whose repository is gone.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseWorkspace } from '../../src/core/worktree.js';
import {
  addWorktree,
  deleteBranch,
  isUnfinished,
  parseShortstat,
  removeWorktree,
  rescue,
  rescueAtArchive,
  taskDiffView,
} from '../../src/git/worktree.js';
import { GitError } from '../../src/git/git.js';
import { git, makeRepo, slowCheckoutRepo } from '../helpers/git.js';
import { pidAlive, signalGroup } from '../../src/os/procfs.js';

const dirs: string[] = [];
const strays: ChildProcess[] = [];
afterEach(() => {
  for (const s of strays.splice(0)) if (s.pid !== undefined) signalGroup(s.pid, 'SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function temp(): string {
  const d = mkdtempSync(join(tmpdir(), 'warden-git-'));
  dirs.push(d);
  return d;
}

/** A repository where another git holds the lock of `branch` (a ref not made yet). */
function lockedBranch(branch: string): { repo: string; lock: string } {
  const repo = makeRepo();
  dirs.push(repo);
  const lock = join(repo, '.git', 'refs', 'heads', `${branch}.lock`);
  mkdirSync(dirname(lock), { recursive: true });
  writeFileSync(lock, '');
  return { repo, lock };
}

describe('--workspace', () => {
  it('reads folder and worktree:REPO[@BASE], the base after the last @', () => {
    expect(parseWorkspace('folder')).toBeNull();
    expect(parseWorkspace('worktree:/srv/app')).toEqual({ repo: '/srv/app', base: null });
    expect(parseWorkspace('worktree:/srv/app/@main')).toEqual({ repo: '/srv/app', base: 'main' });
    expect(parseWorkspace('worktree:/srv/a@b@v1.2')).toEqual({ repo: '/srv/a@b', base: 'v1.2' });
  });

  it('refuses what it cannot read, saying what to give', () => {
    expect(() => parseWorkspace('worktree:app')).toThrow(/must be an absolute path/);
    expect(() => parseWorkspace('worktree:/srv/app@')).toThrow(/nothing after '@'/);
    expect(() => parseWorkspace('/srv/app')).toThrow(/neither 'folder' nor 'worktree:REPO/);
  });

  it('reads git diff --shortstat', () => {
    expect(parseShortstat(' 3 files changed, 10 insertions(+), 1 deletion(-)\n')).toEqual({
      files: 3,
      insertions: 10,
      deletions: 1,
    });
    expect(parseShortstat(' 1 file changed, 2 deletions(-)\n')).toEqual({
      files: 1,
      insertions: 0,
      deletions: 2,
    });
    expect(parseShortstat('')).toEqual({ files: 0, insertions: 0, deletions: 0 });
  });
});

describe('rescue and removal', () => {
  it('saves uncommitted work in a ref, leaving the branch, the index and the files as they were', async () => {
    const repo = makeRepo();
    dirs.push(repo);
    const wt = join(temp(), 'wt');
    const base = git(repo, 'rev-parse', 'HEAD');
    await addWorktree(repo, wt, 'warden/7', base, false);
    expect(await rescue(wt, 7, 70)).toBeNull();
    writeFileSync(join(wt, 'README'), 'changed\n');
    writeFileSync(join(wt, 'new.txt'), 'new\n');
    git(wt, 'add', 'README');
    const saved = await rescue(wt, 7, 70);
    expect(saved).toMatchObject({ ref: 'refs/warden/rescue/7/70', files: 2 });
    expect(git(repo, 'show', 'refs/warden/rescue/7/70:new.txt')).toBe('new');
    expect(git(repo, 'rev-parse', 'warden/7')).toBe(base);
    // The person's staging is untouched: README staged, new.txt still untracked.
    expect(git(wt, 'status', '--porcelain')).toBe('M  README\n?? new.txt');
  });

  it('saves at an archive what a person changed since the ending, naming the ending’s ref when nothing changed since', async () => {
    const repo = makeRepo();
    dirs.push(repo);
    const wt = join(temp(), 'wt');
    await addWorktree(repo, wt, 'warden/13', git(repo, 'rev-parse', 'HEAD'), false);
    writeFileSync(join(wt, 'notes.txt'), 'the run’s\n');
    await rescue(wt, 13, 130);
    // Nothing touched since the run's ending: its ref holds them already.
    expect(await rescueAtArchive(wt, 13, 1000)).toMatchObject({
      ref: 'refs/warden/rescue/13/130',
      files: 1,
    });
    writeFileSync(join(wt, 'README'), 'a person’s edit\n');
    const saved = await rescueAtArchive(wt, 13, 2000);
    expect(saved).toMatchObject({ ref: 'refs/warden/rescue/13/archived-2000', files: 2 });
    expect(git(repo, 'show', 'refs/warden/rescue/13/archived-2000:README')).toBe('a person’s edit');
    expect(git(repo, 'show', 'refs/warden/rescue/13/archived-2000:notes.txt')).toBe('the run’s');
  });

  it('deletes a branch, says no for one already gone, and throws another git’s lock that stays', async () => {
    const repo = makeRepo();
    dirs.push(repo);
    git(repo, 'branch', 'warden/14');
    git(repo, 'branch', 'warden/15');
    git(repo, 'pack-refs', '--all');
    expect(await deleteBranch(repo, 'warden/14')).toBe(true);
    expect(await deleteBranch(repo, 'warden/14')).toBe(false);
    // A packed branch is deleted by rewriting packed-refs, under its lock.
    writeFileSync(join(repo, '.git', 'packed-refs.lock'), '');
    const err = await deleteBranch(repo, 'warden/15').catch((e: unknown) => e as GitError);
    expect(err).toMatchObject({ locked: true });
    rmSync(join(repo, '.git', 'packed-refs.lock'));
    expect(git(repo, 'branch', '--list', 'warden/15')).toContain('warden/15');
  });

  it('gives each of its git commands what is left of a deadline, not the whole of it each', async () => {
    const repo = makeRepo();
    dirs.push(repo);
    const wt = join(temp(), 'wt');
    await addWorktree(repo, wt, 'warden/9', git(repo, 'rev-parse', 'HEAD'), false);
    writeFileSync(join(wt, 'new.txt'), 'new\n');
    // An ending's evidence passes the deadline's remainder: read again for every command
    // (status, rev-parse, read-tree, add, write-tree, commit-tree, update-ref).
    let asked = 0;
    const saved = await rescue(wt, 9, 90, () => {
      asked++;
      return 10_000;
    });
    expect(saved).toMatchObject({ ref: 'refs/warden/rescue/9/90', files: 1 });
    expect(asked).toBe(7);
  });

  it('refuses a branch that exists and was not made for the task, and makes nothing', async () => {
    const repo = makeRepo();
    dirs.push(repo);
    git(repo, 'branch', 'warden/8');
    const wt = join(temp(), 'wt');
    await expect(
      addWorktree(repo, wt, 'warden/8', git(repo, 'rev-parse', 'HEAD'), false),
    ).rejects.toThrow(/branch warden\/8 already exists in .* and was not made for this task/);
    expect(existsSync(wt)).toBe(false);
  });

  it('waits out another git’s lock on the branch, and makes the worktree once it is let go', async () => {
    const { repo, lock } = lockedBranch('warden/11');
    const wt = join(temp(), 'wt');
    const adding = addWorktree(repo, wt, 'warden/11', git(repo, 'rev-parse', 'HEAD'), false);
    // Held about as long as a person's `git fetch` or `gc` might hold it, then let go.
    setTimeout(() => rmSync(lock), 600);
    await adding;
    expect(git(wt, 'branch', '--show-current')).toBe('warden/11');
  });

  it('gives up on a lock that stays, as one that may pass, naming the file; and makes nothing', async () => {
    const { repo } = lockedBranch('warden/12');
    const wt = join(temp(), 'wt');
    const err = await addWorktree(
      repo,
      wt,
      'warden/12',
      git(repo, 'rev-parse', 'HEAD'),
      false,
    ).catch((e: unknown) => e as GitError);
    expect(err).toBeInstanceOf(GitError);
    expect(err).toMatchObject({ locked: true, passing: true });
    // Not "the branch already exists": that is for a person, this passes by itself.
    expect(err?.message).toMatch(
      /warden\/12\.lock': File exists\. \(another git is working in this repository, or one that crashed left the file: remove it if no git is running\)$/,
    );
    expect(existsSync(wt)).toBe(false);
    expect(git(repo, 'branch', '--list', 'warden/12')).toBe('');
    expect(worktreeCount(repo)).toBe(1);
  });

  it('refuses a folder made where a worktree was deleted by hand, saying what to do, and leaves it as it is', async () => {
    const repo = makeRepo();
    dirs.push(repo);
    const wt = join(temp(), 'wt');
    await addWorktree(repo, wt, 'warden/16', git(repo, 'rev-parse', 'HEAD'), false);
    rmSync(wt, { recursive: true });
    // An editor writes its cache where the worktree was.
    mkdirSync(join(wt, '.idea'), { recursive: true });
    writeFileSync(join(wt, '.idea', 'cache'), 'kept');
    await expect(
      addWorktree(repo, wt, 'warden/16', git(repo, 'rev-parse', 'HEAD'), true),
    ).rejects.toThrow(
      `a folder already exists at ${wt} and is not a git worktree (its worktree was deleted by hand and the folder made again?); move it away`,
    );
    expect(readFileSync(join(wt, '.idea', 'cache'), 'utf8')).toBe('kept');
    // Moved away, the worktree is made there again from its branch.
    renameSync(wt, `${wt}.old`);
    await addWorktree(repo, wt, 'warden/16', git(repo, 'rev-parse', 'HEAD'), true);
    expect(git(wt, 'branch', '--show-current')).toBe('warden/16');
  });

  it('diffs the branch of a worktree deleted by hand on this host, not "on another host"; and of a folder that is not a worktree', async () => {
    const repo = makeRepo();
    dirs.push(repo);
    const wt = join(temp(), 'wt');
    const base = git(repo, 'rev-parse', 'HEAD');
    await addWorktree(repo, wt, 'warden/17', base, false);
    writeFileSync(join(wt, 'work.txt'), 'work\n');
    git(wt, 'add', 'work.txt');
    git(wt, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'work');
    const rec = {
      task_id: 17,
      host_id: 'this-host',
      repo,
      path: wt,
      branch: 'warden/17',
      base_sha: base,
      created_at: 0,
      removed_at: null,
    };
    rmSync(wt, { recursive: true });
    const gone = await taskDiffView(17, rec, false);
    expect(gone).toMatchObject({ against: 'branch warden/17' });
    expect(gone.stat).toContain('work.txt');
    mkdirSync(join(wt, '.idea'), { recursive: true });
    expect(await taskDiffView(17, rec, false)).toMatchObject({ against: 'branch warden/17' });
  });

  it("makes a task's worktree deleted by hand again from its branch, which keeps its commits", async () => {
    const repo = makeRepo();
    dirs.push(repo);
    const wt = join(temp(), 'wt');
    await addWorktree(repo, wt, 'warden/10', git(repo, 'rev-parse', 'HEAD'), false);
    writeFileSync(join(wt, 'work.txt'), 'committed\n');
    git(wt, 'add', 'work.txt');
    git(wt, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'work');
    rmSync(wt, { recursive: true, force: true });
    // git still lists it (prunable): refused until pruned.
    await addWorktree(repo, wt, 'warden/10', git(repo, 'rev-parse', 'HEAD'), true);
    expect(readFileSync(join(wt, 'work.txt'), 'utf8')).toBe('committed\n');
    expect(git(wt, 'branch', '--show-current')).toBe('warden/10');
  });

  it('removes the folder of a worktree whose repository is gone', async () => {
    const repo = makeRepo();
    const wt = join(temp(), 'wt');
    await addWorktree(repo, wt, 'warden/9', git(repo, 'rev-parse', 'HEAD'), false);
    rmSync(repo, { recursive: true, force: true });
    await removeWorktree(repo, wt);
    expect(existsSync(wt)).toBe(false);
  });
});

/** A slow-checkout repository (test/helpers/git.ts) in temp folders removed after the test. */
function slowCheckout(): { repo: string; started: string; fast: string } {
  const slow = slowCheckoutRepo(temp());
  dirs.push(slow.repo);
  return slow;
}

async function untilWritten(path: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!existsSync(path) || readFileSync(path, 'utf8') === '') {
    if (Date.now() > deadline) throw new Error(`${path} was never written`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function worktreeCount(repo: string): number {
  return git(repo, 'worktree', 'list').split('\n').length;
}

/** An add stopped by its signal while the filter holds its checkout; it fails as aborted. */
async function abortMidCheckout(
  repo: string,
  wt: string,
  branch: string,
  reuseBranch: boolean,
  started: string,
): Promise<void> {
  const stop = new AbortController();
  const base = git(repo, 'rev-parse', 'HEAD');
  const adding = addWorktree(repo, wt, branch, base, reuseBranch, stop.signal);
  await untilWritten(started);
  stop.abort();
  await expect(adding).rejects.toMatchObject({ aborted: true });
}

describe('a worktree add cut short', () => {
  it('takes back what an aborted add made, its new branch too; the next add makes it whole', async () => {
    const { repo, started, fast } = slowCheckout();
    const wt = join(temp(), 'wt');
    await abortMidCheckout(repo, wt, 'warden/5', false, started);
    expect(existsSync(wt)).toBe(false);
    expect(git(repo, 'branch', '--list', 'warden/5')).toBe('');
    expect(worktreeCount(repo)).toBe(1);
    writeFileSync(fast, '');
    await addWorktree(repo, wt, 'warden/5', git(repo, 'rev-parse', 'HEAD'), false);
    expect(readFileSync(join(wt, 'data.bin'), 'utf8')).toBe('the whole file\n');
  });

  it('keeps the branch of a task whose worktree is made again, and a folder that was there before', async () => {
    const { repo, started, fast } = slowCheckout();
    git(repo, 'branch', 'warden/6');
    const wt = join(temp(), 'wt');
    await abortMidCheckout(repo, wt, 'warden/6', true, started);
    expect(git(repo, 'branch', '--list', 'warden/6')).toContain('warden/6');
    expect(existsSync(wt)).toBe(false);
    // A folder that was there: git refuses it, and it is left as it was.
    writeFileSync(fast, '');
    mkdirSync(wt);
    writeFileSync(join(wt, 'mine.txt'), "a person's\n");
    await expect(
      addWorktree(repo, wt, 'warden/6', git(repo, 'rev-parse', 'HEAD'), true),
    ).rejects.toThrow(/already exists/);
    expect(readFileSync(join(wt, 'mine.txt'), 'utf8')).toBe("a person's\n");
  });

  it('discards what an add killed with its caller left, and makes the worktree whole, through a symbolic link', async () => {
    const { repo, started, fast } = slowCheckout();
    // The home is reached through a link: git lists the worktree by its real path.
    const linked = join(temp(), 'home');
    symlinkSync(temp(), linked);
    const wt = join(linked, 'wt');
    const add = strayAdd(repo, wt, 'warden/4');
    await untilWritten(started);
    // Killed mid-checkout, as a SIGKILLed serve's would be.
    process.kill(-(add.pid ?? 0), 'SIGKILL');
    await new Promise((r) => add.on('exit', r));
    expect(existsSync(join(wt, 'data.bin'))).toBe(false);
    expect(await isUnfinished(repo, wt)).toBe(true);
    writeFileSync(fast, '');
    await addWorktree(repo, wt, 'warden/4', git(repo, 'rev-parse', 'HEAD'), false);
    expect(readFileSync(join(wt, 'data.bin'), 'utf8')).toBe('the whole file\n');
    expect(await isUnfinished(repo, wt)).toBe(false);
    expect(worktreeCount(repo)).toBe(2);
  });

  it('takes back a branch made for its path by an add killed before its worktree; one used since stays refused', async () => {
    const repo = makeRepo();
    dirs.push(repo);
    const wt = join(realpathSync(temp()), 'wt');
    const head = git(repo, 'rev-parse', 'HEAD');
    // What warden's first command leaves when serve dies before the second (docs/worktrees.md).
    const made = (branch: string): string =>
      git(
        repo,
        'update-ref',
        '--create-reflog',
        '-m',
        `warden: made for the worktree ${wt}`,
        `refs/heads/${branch}`,
        head,
        '',
      );
    made('warden/2');
    await addWorktree(repo, wt, 'warden/2', head, false);
    expect(git(wt, 'branch', '--show-current')).toBe('warden/2');
    // The same, moved since by a commit: not warden's to take.
    const other = join(dirname(wt), 'other');
    made('warden/1');
    git(repo, 'update-ref', '-m', 'a person moved it', 'refs/heads/warden/1', head);
    await expect(addWorktree(repo, other, 'warden/1', head, false)).rejects.toThrow(
      /branch warden\/1 already exists/,
    );
  });

  it('kills an add still making the worktree (its serve died) before making it again', async () => {
    const { repo, started, fast } = slowCheckout();
    const wt = join(temp(), 'wt');
    const add = strayAdd(repo, wt, 'warden/3');
    await untilWritten(started);
    const filter = Number(readFileSync(started, 'utf8'));
    writeFileSync(fast, '');
    await addWorktree(repo, wt, 'warden/3', git(repo, 'rev-parse', 'HEAD'), false);
    // The old add and its filter are gone; the worktree is the new add's, whole.
    expect(pidAlive(add.pid ?? 0)).toBe(false);
    expect(pidAlive(filter)).toBe(false);
    expect(readFileSync(join(wt, 'data.bin'), 'utf8')).toBe('the whole file\n');
    expect(await isUnfinished(repo, wt)).toBe(false);
  });
});

/** git's own `worktree add`, in a session of its own as warden runs it, left to itself. */
function strayAdd(repo: string, wt: string, branch: string): ChildProcess {
  const add = spawn('git', ['-C', repo, 'worktree', 'add', '-b', branch, '--', wt, 'HEAD'], {
    detached: true,
    stdio: 'ignore',
    env: { ...process.env, LC_ALL: 'C' },
  });
  strays.push(add);
  return add;
}
