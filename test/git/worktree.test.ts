/**
 * The git side of worktree workspaces (src/git/worktree.ts) on real repositories in temp
 * folders: parsing --workspace, a rescue that touches neither the branch nor the index, and
 * removing a worktree whose repository is gone.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseWorkspace } from '../../src/core/worktree.js';
import { addWorktree, parseShortstat, removeWorktree, rescue } from '../../src/git/worktree.js';
import { git, makeRepo } from '../helpers/git.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function temp(): string {
  const d = mkdtempSync(join(tmpdir(), 'warden-git-'));
  dirs.push(d);
  return d;
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

  it('removes the folder of a worktree whose repository is gone', async () => {
    const repo = makeRepo();
    const wt = join(temp(), 'wt');
    await addWorktree(repo, wt, 'warden/9', git(repo, 'rev-parse', 'HEAD'), false);
    rmSync(repo, { recursive: true, force: true });
    await removeWorktree(repo, wt);
    expect(existsSync(wt)).toBe(false);
  });
});
