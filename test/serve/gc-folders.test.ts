/**
 * gc measures and removes a run's folder or a workspace (src/serve/gc.ts, off the event loop
 * through src/os/tree.ts, whose own test shows the loop turning): real folders in a temp
 * folder.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { removeFolders } from '../../src/serve/gc.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A folder of `files` files of 10 bytes, 100 to a sub-folder; gives their bytes. */
function bigFolder(path: string, files: number): number {
  for (let i = 0; i < files; i++) {
    const sub = join(path, 'node_modules', `pkg-${Math.floor(i / 100)}`);
    if (i % 100 === 0) mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, `f-${i}.js`), '0123456789');
  }
  return files * 10;
}

it('measures a folder of thousands of files, dry or not, and removes it without following a link out of it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-gc-'));
  dirs.push(dir);
  const bytes = bigFolder(join(dir, '7'), 3_000);
  // A link out of the folder is removed, not followed: what it points at stays, uncounted.
  const outside = join(dir, 'outside');
  mkdirSync(outside);
  writeFileSync(join(outside, 'keep.txt'), 'not gc’s to remove');
  symlinkSync(outside, join(dir, '7', 'link'));

  // What it takes on the disk, which removing it frees: as `du` counts, the link itself but
  // not what is behind it (whole blocks: far more than the files' 30,000 bytes).
  const du = Number(
    execFileSync('du', ['-s', '-B1', join(dir, '7')], { encoding: 'utf8' }).split('\t')[0],
  );
  const dry = await removeFolders(dir, [7], true);
  expect(dry[0]?.bytes).toBe(du);
  expect(du).toBeGreaterThan(bytes);
  expect(existsSync(join(dir, '7'))).toBe(true);

  const removed = await removeFolders(dir, [7], false);
  expect(removed).toEqual([{ id: 7, path: join(dir, '7'), bytes: dry[0]?.bytes }]);
  expect(existsSync(join(dir, '7'))).toBe(false);
  expect(existsSync(join(outside, 'keep.txt'))).toBe(true);
});

it('leaves a folder whose task may not go any more when its turn comes (reopened meanwhile)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-gc-'));
  dirs.push(dir);
  bigFolder(join(dir, '8'), 10);
  bigFolder(join(dir, '9'), 10);
  const asked: number[] = [];
  const removed = await removeFolders(dir, [8, 9], false, (batch) => {
    asked.push(...batch);
    return Promise.resolve(batch.filter((id) => id !== 8));
  });
  expect(asked).toEqual([8, 9]);
  expect(removed.map((r) => r.id)).toEqual([9]);
  expect(existsSync(join(dir, '8'))).toBe(true);
  expect(existsSync(join(dir, '9'))).toBe(false);
});
