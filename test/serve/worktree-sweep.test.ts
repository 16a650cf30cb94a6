/**
 * `serve`'s sweep of archived tasks' worktrees (src/serve/worktrees.ts) on a real SQLite store
 * and a real repository: a worktree a person locked in git (`git worktree lock`) is kept, with
 * how to let it go, said once and not at every sweep; unlocked, it goes at the next sweep, with
 * the changes made in it since saved first.
 */
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { person } from '../../src/core/actor.js';
import { ManualClock } from '../../src/core/clock.js';
import { addWorktree } from '../../src/git/worktree.js';
import { sweepArchivedWorktrees } from '../../src/serve/worktrees.js';
import { openSqliteStore } from '../../src/store/sqlite/open.js';
import { git, makeRepo } from '../helpers/git.js';

const ana = person('ana');
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

it('keeps a worktree a person locked, saying so once, and removes it once unlocked', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-sweep-'));
  const repo = makeRepo();
  dirs.push(dir, repo);
  const store = await openSqliteStore(join(dir, 'warden.db'), new ManualClock(), { create: true });
  try {
    await store.addBoard('default', ana);
    const task = await store.createTask({ title: 'kept by a person' }, ana);
    const path = join(dir, 'worktrees', String(task.id));
    const base = git(repo, 'rev-parse', 'HEAD');
    await addWorktree(repo, path, `warden/${task.id}`, base, false);
    await store.recordWorktree(
      { task_id: task.id, host_id: 'h1', repo, path, branch: `warden/${task.id}`, base_sha: base },
      ana,
    );
    writeFileSync(join(path, 'mine.txt'), 'a person’s\n');
    git(repo, 'worktree', 'lock', '--reason', 'keep this one', path);
    await store.moveTask(task.id, { verb: 'archive' }, ana);

    const said: string[] = [];
    const unremoved = new Map<number, string>();
    const sweep = (): Promise<void> =>
      sweepArchivedWorktrees(store, 'h1', ana, (line) => said.push(line), unremoved);
    await sweep();
    await sweep();
    expect(said).toEqual([
      `task ${task.id}: its worktree ${path} was not removed: git keeps it locked (lock reason: keep this one); it stays until unlocked: \`git -C ${repo} worktree unlock ${path}\``,
    ]);
    expect(existsSync(join(path, 'mine.txt'))).toBe(true);
    expect((await store.getWorktree(task.id))?.removed_at).toBeNull();

    git(repo, 'worktree', 'unlock', path);
    await sweep();
    expect(said).toHaveLength(2);
    expect(said[1]).toMatch(
      new RegExp(
        `^task ${task.id} is archived: removed its worktree ${path} \\(its uncommitted changes, 1 file, are in refs/warden/rescue/${task.id}/archived-\\d+\\); its branch warden/${task.id} stays in `,
      ),
    );
    expect(existsSync(path)).toBe(false);
    expect(git(repo, 'worktree', 'list')).not.toContain(path);
    expect((await store.getWorktree(task.id))?.removed_at).not.toBeNull();
  } finally {
    await store.close();
  }
});
