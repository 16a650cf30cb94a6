/**
 * `serve`'s sweep of archived tasks' worktrees (src/serve/worktrees.ts) on a real SQLite store
 * and a real repository: a worktree a person locked in git (`git worktree lock`) is kept, with
 * how to let it go, said once and not at every sweep; unlocked, it goes at the next sweep, with
 * the changes made in it since saved first.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { person } from '../../src/core/actor.js';
import { ManualClock } from '../../src/core/clock.js';
import { addWorktree } from '../../src/git/worktree.js';
import { removeTaskWorktree, sweepArchivedWorktrees } from '../../src/serve/worktrees.js';
import { openSqliteStore } from '../../src/store/sqlite/open.js';
import type { SqliteStore } from '../../src/store/sqlite/open.js';
import type { WorktreeRecord } from '../../src/core/worktree.js';
import { git, makeRepo } from '../helpers/git.js';

const ana = person('ana');
const dirs: string[] = [];
const stores: SqliteStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A store with one task whose worktree warden made and recorded, closed after the test. */
async function taskWithWorktree(title: string): Promise<{
  store: SqliteStore;
  repo: string;
  path: string;
  branch: string;
  task: { id: number };
  rec: WorktreeRecord;
}> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-sweep-'));
  const repo = makeRepo();
  dirs.push(dir, repo);
  const store = await openSqliteStore(join(dir, 'warden.db'), new ManualClock(), { create: true });
  stores.push(store);
  await store.addBoard('default', ana);
  const task = await store.createTask({ title }, ana);
  const path = join(dir, 'worktrees', String(task.id));
  const branch = `warden/${task.id}`;
  const base = git(repo, 'rev-parse', 'HEAD');
  await addWorktree(repo, path, branch, base, false);
  const rec = await store.recordWorktree(
    { task_id: task.id, host_id: 'h1', repo, path, branch, base_sha: base },
    ana,
  );
  return { store, repo, path, branch, task, rec };
}

it('keeps a worktree a person locked, saying so once, and removes it once unlocked', async () => {
  const { store, repo, path, task } = await taskWithWorktree('kept by a person');
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
});

it('leaves a folder that is not a worktree any more, forgets its entry, and says a deleted branch was gone already', async () => {
  const { store, repo, path, branch, task, rec } = await taskWithWorktree('its folder made again');
  // Deleted by hand with its branch, and a person's folder made where it was.
  rmSync(path, { recursive: true });
  git(repo, 'worktree', 'prune');
  git(repo, 'branch', '-D', branch);
  mkdirSync(path);
  writeFileSync(join(path, 'mine.txt'), 'a person’s\n');
  await store.moveTask(task.id, { verb: 'archive' }, ana);
  expect(await removeTaskWorktree(store, rec, true, ana)).toBe(
    `left its folder ${path} as it is (it is not a git worktree; it is not warden's to delete); its branch ${branch} was gone already`,
  );
  expect(readFileSync(join(path, 'mine.txt'), 'utf8')).toBe('a person’s\n');
  expect(git(repo, 'worktree', 'list')).not.toContain(path);
  expect((await store.getWorktree(task.id))?.removed_at).not.toBeNull();
});
