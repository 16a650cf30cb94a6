import { lstat, readdir, rmdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A folder's size and its removal, a few files at a time off the event loop, never following a
 * link. Node's own recursive `rm` holds the loop for a tenth of a second per 50,000 files, and
 * `rmSync` for the whole of it: a workspace's `node_modules` must not stop `serve` from answering
 * its workers, nor from renewing its lease, while gc removes it (docs/benchmarks.md).
 */

/** Entries of one folder worked on at once (each folder below has as many of its own). */
const AT_ONCE = 16;

/** Calls `each` on every entry of the folder `dir`, `AT_ONCE` at a time. */
async function eachEntry(dir: string, each: (path: string) => Promise<void>): Promise<void> {
  const names = await readdir(dir);
  for (let i = 0; i < names.length; i += AT_ONCE) {
    await Promise.all(names.slice(i, i + AT_ONCE).map((n) => each(join(dir, n))));
  }
}

/** Bytes of the files under `path` (0 when it is gone or cannot be read). */
export async function treeSize(path: string): Promise<number> {
  let total = 0;
  const add = async (p: string): Promise<void> => {
    const st = await lstat(p).catch(() => null);
    if (st === null) return;
    if (!st.isDirectory()) {
      total += st.size;
      return;
    }
    await eachEntry(p, add).catch(() => undefined);
  };
  await add(path);
  return total;
}

/** Removes `path` and everything under it; a path already gone is fine. */
export async function removeTree(path: string): Promise<void> {
  const st = await lstat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  if (st === null) return;
  if (!st.isDirectory()) {
    await unlink(path).catch(ignoreGone);
    return;
  }
  await eachEntry(path, removeTree).catch(ignoreGone);
  await rmdir(path).catch(ignoreGone);
}

function ignoreGone(err: NodeJS.ErrnoException): void {
  if (err.code !== 'ENOENT') throw err;
}
