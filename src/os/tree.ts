import { lstat, opendir, rmdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A folder's size and its removal, off the event loop and never following a link. Node's own
 * recursive `rm` holds the loop for a tenth of a second per 50,000 files, and `rmSync` for the
 * whole of it: a workspace's `node_modules` must not stop `serve` from answering its workers,
 * nor from renewing its lease, while gc removes it (docs/benchmarks.md).
 *
 * A walk makes at most `IN_FLIGHT` file-system calls at once, however deep the tree: libuv runs
 * them on four threads that every other file call of `serve` (and each DNS lookup) shares, and
 * those wait behind at most that many. It takes about four times as long as `rmSync` for it. A
 * folder is read `BATCH` entries at a time, so a folder of a million entries is never held in
 * memory whole.
 */

/** Most file-system calls of one walk in flight at once. */
const IN_FLIGHT = 16;
/** Entries of one folder read, then worked on, at a time. */
const BATCH = 64;

/** Lets at most `IN_FLIGHT` calls run at once; the others wait their turn. */
class Gate {
  private free = IN_FLIGHT;
  private readonly waiting: (() => void)[] = [];

  run<T>(call: () => Promise<T>): Promise<T> {
    const release = (): void => {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    };
    if (this.free > 0) {
      this.free--;
      return call().finally(release);
    }
    return new Promise<void>((resolve) => this.waiting.push(resolve)).then(call).finally(release);
  }
}

/** Waits for all of `work`, then fails with the first failure: none is left running. */
async function allOf(work: Promise<unknown>[]): Promise<void> {
  const failed = (await Promise.allSettled(work)).find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** Calls `each` on every entry of the folder `dir`, read `BATCH` at a time. */
async function eachEntry(
  gate: Gate,
  dir: string,
  each: (path: string) => Promise<void>,
): Promise<void> {
  const handle = await gate.run(() => opendir(dir, { bufferSize: BATCH }));
  try {
    for (;;) {
      const batch: string[] = [];
      while (batch.length < BATCH) {
        // From the handle's buffer, read a batch at a time: one call in BATCH goes to disk.
        const entry = await handle.read();
        if (entry === null) break;
        batch.push(join(dir, entry.name));
      }
      if (batch.length === 0) return;
      await allOf(batch.map(each));
    }
  } finally {
    await handle.close().catch(() => undefined);
  }
}

function isGone(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ENOENT';
}

/**
 * Bytes of the files under `path` (0 when it is gone; what cannot be read is not counted);
 * with `disk`, the space they and their folders take on the disk (whole blocks: many small
 * files take far more than their bytes), which removing them frees: as `du` counts it, but a
 * file with other hard links is not counted, since removing this one frees nothing.
 */
export async function treeSize(path: string, measure: 'bytes' | 'disk' = 'bytes'): Promise<number> {
  const gate = new Gate();
  let total = 0;
  const add = async (p: string): Promise<void> => {
    const st = await gate.run(() => lstat(p)).catch(() => null);
    if (st === null) return;
    // A file with other links frees nothing when this one goes (a pnpm store, git objects).
    if (measure === 'disk' && (st.isDirectory() || st.nlink === 1)) total += st.blocks * 512;
    if (!st.isDirectory()) {
      if (measure === 'bytes') total += st.size;
      return;
    }
    await eachEntry(gate, p, add).catch(() => undefined);
  };
  await add(path);
  return total;
}

/**
 * Removes `path` and everything under it; a path already gone is fine. Fails with the first
 * error (EACCES, EBUSY) once the rest of the walk has stopped.
 */
export async function removeTree(path: string): Promise<void> {
  const gate = new Gate();
  const remove = async (p: string): Promise<void> => {
    const st = await gate
      .run(() => lstat(p))
      .catch((err: unknown) => {
        if (isGone(err)) return null;
        throw err;
      });
    if (st === null) return;
    if (!st.isDirectory()) {
      await gate
        .run(() => unlink(p))
        .catch((err: unknown) => {
          if (!isGone(err)) throw err;
        });
      return;
    }
    // Entries removed while the folder is read may make the reading skip some: read again.
    for (let attempt = 1; ; attempt++) {
      await eachEntry(gate, p, remove).catch((err: unknown) => {
        if (!isGone(err)) throw err;
      });
      try {
        await gate.run(() => rmdir(p));
        return;
      } catch (err) {
        if (isGone(err)) return;
        if ((err as NodeJS.ErrnoException).code !== 'ENOTEMPTY' || attempt >= 3) throw err;
      }
    }
  };
  await remove(path);
}
