/**
 * A folder's size and removal off the event loop (src/os/tree.ts), on real files: links are
 * removed, never followed, and a path already gone is fine.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { removeTree, treeSize } from '../../src/os/tree.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function temp(): string {
  const d = mkdtempSync(join(tmpdir(), 'warden-tree-'));
  dirs.push(d);
  return d;
}

it('counts the bytes of the files under a folder, a file alone, and 0 for what is not there', async () => {
  const dir = temp();
  mkdirSync(join(dir, 'a', 'b'), { recursive: true });
  writeFileSync(join(dir, 'a', 'one'), '12345');
  writeFileSync(join(dir, 'a', 'b', 'two'), '1234567890');
  // The files' bytes: a folder's own entry is not counted.
  expect(await treeSize(dir)).toBe(15);
  expect(await treeSize(join(dir, 'a', 'one'))).toBe(5);
  expect(await treeSize(join(dir, 'missing'))).toBe(0);
  // On the disk: whole blocks, folders too, as `du` counts (what gc frees).
  const du = Number(execFileSync('du', ['-s', '-B1', dir], { encoding: 'utf8' }).split('\t')[0]);
  expect(await treeSize(dir, 'disk')).toBe(du);
  expect(du).toBeGreaterThan(15);
});

it('removes a tree, a link in it without following it, a lone file, and nothing at all', async () => {
  const dir = temp();
  const target = join(temp(), 'kept');
  mkdirSync(target);
  writeFileSync(join(target, 'file'), 'not to be removed');
  mkdirSync(join(dir, 'tree', 'deep', 'er'), { recursive: true });
  writeFileSync(join(dir, 'tree', 'deep', 'er', 'f'), 'x');
  symlinkSync(target, join(dir, 'tree', 'link'));
  await removeTree(join(dir, 'tree'));
  expect(existsSync(join(dir, 'tree'))).toBe(false);
  expect(existsSync(join(target, 'file'))).toBe(true);
  // The link itself as the path: the link goes, what it points at stays.
  symlinkSync(target, join(dir, 'link'));
  await removeTree(join(dir, 'link'));
  expect(existsSync(join(dir, 'link'))).toBe(false);
  expect(existsSync(join(target, 'file'))).toBe(true);
  writeFileSync(join(dir, 'lone'), 'y');
  await removeTree(join(dir, 'lone'));
  expect(existsSync(join(dir, 'lone'))).toBe(false);
  await expect(removeTree(join(dir, 'never-there'))).resolves.toBeUndefined();
});

/** Counts the event loop's turns until stopped. */
function turns(): { stop: () => number } {
  let count = 0;
  let on = true;
  const turn = (): void => {
    count++;
    if (on) setImmediate(turn);
  };
  setImmediate(turn);
  return {
    stop: () => {
      on = false;
      return count;
    },
  };
}

it('measures and removes a deep tree and a wide folder while the event loop goes on turning', async () => {
  const dir = temp();
  // 2,000 files in one folder, and 1,000 more ten folders deep.
  const wide = join(dir, 'wide');
  mkdirSync(wide);
  for (let i = 0; i < 2_000; i++) writeFileSync(join(wide, `f-${i}`), '12345');
  let deep = join(dir, 'deep');
  for (let d = 0; d < 10; d++) {
    deep = join(deep, `level-${d}`);
    mkdirSync(deep, { recursive: true });
    for (let i = 0; i < 100; i++) writeFileSync(join(deep, `f-${i}`), '12345');
  }
  let loop = turns();
  expect(await treeSize(dir)).toBe(3_000 * 5);
  // Done in one go (fs's synchronous calls), the loop would not turn at all meanwhile.
  expect(loop.stop()).toBeGreaterThan(10);
  loop = turns();
  await removeTree(dir);
  expect(loop.stop()).toBeGreaterThan(10);
  expect(existsSync(dir)).toBe(false);
});
