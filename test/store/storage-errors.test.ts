/*
 * Storage errors in words (issue #11, defect 8) where they happen: in the SQLite driver, on
 * real files. A lock held past the busy timeout, and a disk that fills up under an open
 * connection, each become one `WardenError` with its code instead of a raw SqliteError.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { person } from '../../src/core/actor.js';
import { ManualClock } from '../../src/core/clock.js';
import { WardenError } from '../../src/core/errors.js';
import { SqliteDriver } from '../../src/store/sqlite/driver.js';
import { openSqliteStore } from '../../src/store/sqlite/open.js';
import { canMount, mountTmpfs } from '../helpers/mount.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'warden-storage-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('a lock held past the busy timeout', () => {
  it('is `unavailable` (exit 5) naming the file, after the retries', async () => {
    const path = join(tempDir(), 'warden.db');
    const store = await openSqliteStore(path, new ManualClock(), { create: true });
    await store.close();
    const holder = new Database(path);
    holder.exec('BEGIN IMMEDIATE');
    cleanups.push(() => holder.close());
    const driver = new SqliteDriver(path, { mustExist: true, busyTimeoutMs: 10 });
    cleanups.push(() => void driver.close());
    const err = await driver
      .tx((db) => db.run("INSERT INTO boards VALUES ('x', 0, 0)"))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WardenError);
    expect((err as WardenError).code).toBe('unavailable');
    expect((err as WardenError).exitCode).toBe(5);
    expect((err as WardenError).message).toMatch(
      new RegExp(
        `^${path.replaceAll('/', '\\/')} is locked by another process \\(SQLITE_BUSY; .+\\); try again, and if it lasts, find the process holding it with \`fuser`,
      ),
    );
  });
});

describe.skipIf(!canMount())('a disk that fills up under an open store', () => {
  it('refuses the write as `storage` (exit 6), and writes again once there is room', async () => {
    const fs = mountTmpfs(1024 * 1024);
    cleanups.push(() => fs.remove());
    const store = await openSqliteStore(join(fs.dir, 'warden.db'), new ManualClock(), {
      create: true,
    });
    cleanups.push(() => void store.close());
    const ana = person('ana');
    await store.addBoard('default', ana);
    await store.createTask({ title: 'before' }, ana);
    const filler = join(fs.dir, 'filler');
    try {
      for (;;) writeFileSync(filler, Buffer.alloc(16 * 1024), { flag: 'a' });
    } catch {
      // ENOSPC: full.
    }
    let err: unknown;
    for (let i = 0; i < 200 && err === undefined; i++) {
      err = await store.createTask({ title: `t${i}`, body: 'x'.repeat(8000) }, ana).then(
        () => undefined,
        (e: unknown) => e,
      );
    }
    expect(err).toBeInstanceOf(WardenError);
    expect((err as WardenError).code).toBe('storage');
    expect((err as WardenError).message).toMatch(
      /warden\.db: the disk is full \(SQLITE_\w+: .+\); nothing was written/,
    );
    rmSync(filler);
    const after = await store.createTask({ title: 'after' }, ana);
    expect(after.title).toBe('after');
  });
});
