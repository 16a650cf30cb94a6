/*
 * Group commit on SQLite (issue #16): transactions of one process that are in flight together
 * share one COMMIT, so one fsync, on real files. Nobody is answered before that COMMIT has
 * returned, a member that throws is undone alone, a failed COMMIT fails every member, order
 * is kept, a read while a group is open sees what is committed without waiting for it, a
 * full disk refuses whole groups, and every acknowledged write survives a SIGKILL of the
 * writing process.
 */
import { spawn } from 'node:child_process';
import {
  mkdtempSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SQLITE_DEFAULTS } from '../../src/core/defaults.js';
import { WardenError } from '../../src/core/errors.js';
import { SqliteDriver } from '../../src/store/sqlite/driver.js';
import type { GroupLimits } from '../../src/store/sqlite/group-commit.js';
import { canMount, mountTmpfs } from '../helpers/mount.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'warden-group-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A driver on a fresh file with a table `t`, and a second connection that sees only commits. */
async function setup(
  groupLimits?: GroupLimits,
): Promise<{ driver: SqliteDriver; path: string; committed: () => number[] }> {
  const path = join(tempDir(), 'warden.db');
  const driver = new SqliteDriver(path, {
    mustExist: false,
    ...(groupLimits ? { groupLimits } : {}),
  });
  cleanups.push(() => driver.close());
  await driver.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, seq INTEGER)');
  const other = new Database(path, { readonly: true });
  cleanups.push(() => void other.close());
  const ids = other.prepare('SELECT id FROM t ORDER BY id').pluck();
  return { driver, path, committed: () => ids.all() as number[] };
}

function insert(driver: SqliteDriver, id: number): Promise<number> {
  return driver.tx((db) => db.run('INSERT INTO t (id) VALUES (?)', [id]));
}

describe('group commit', () => {
  it('answers transactions in flight together only once all of them are committed', async () => {
    // No time cap: a loaded machine could reach the default's few milliseconds first (CI saw
    // ten writes split 8 and 2), and this is about members, not time.
    const { driver, committed } = await setup({
      maxMembers: SQLITE_DEFAULTS.group_max_members,
      maxMs: 60_000,
    });
    const seen: number[][] = [];
    await Promise.all(
      Array.from({ length: 10 }, (_, i) => insert(driver, i).then(() => seen.push(committed()))),
    );
    // Each caller, when answered, finds its own write and its neighbours' on disk: one COMMIT.
    const all = Array.from({ length: 10 }, (_, i) => i);
    expect(seen).toEqual(Array.from({ length: 10 }, () => all));
  });

  it('caps a group, so the write lock is never held for a whole backlog', async () => {
    const { driver, committed } = await setup();
    const seen: number[] = [];
    await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        insert(driver, i).then(() => seen.push(committed().length)),
      ),
    );
    expect(seen[0]).toBeGreaterThan(1);
    expect(seen[0]).toBeLessThanOrEqual(SQLITE_DEFAULTS.group_max_members);
    expect(seen.at(-1)).toBe(300);
  });

  it('runs members in the order they were asked for, each seeing the ones before', async () => {
    const { driver } = await setup();
    const next = (id: number): Promise<number> =>
      driver.tx(async (db) => {
        const row = await db.get<{ n: number }>('SELECT COALESCE(MAX(seq), 0) AS n FROM t');
        await db.run('INSERT INTO t (id, seq) VALUES (?, ?)', [id, (row?.n ?? 0) + 1]);
        return (row?.n ?? 0) + 1;
      });
    const seqs = await Promise.all(Array.from({ length: 20 }, (_, i) => next(i)));
    expect(seqs).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    // A read asked for after them sees all of them, and is answered once they are on disk.
    const read = await driver.read((db) => db.all<{ id: number }>('SELECT id FROM t'));
    expect(read).toHaveLength(20);
  });

  it('answers a read while a group is open from what is committed, without waiting for it', async () => {
    const { driver } = await setup();
    await insert(driver, 1);
    // A member held open until the reads are answered (a body otherwise only touches the
    // database, so a group's members run one after another without a pause).
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const write = driver.tx(async (db) => {
      await db.run('INSERT INTO t (id) VALUES (2)');
      await held;
    });
    const read = await driver.read((db) => db.all<{ id: number }>('SELECT id FROM t'));
    const bare = await driver.all<{ id: number }>('SELECT id FROM t');
    // The acknowledged write is seen; the open group's, not yet on disk, is not.
    expect(read.map((r) => r.id)).toEqual([1]);
    expect(bare.map((r) => r.id)).toEqual([1]);
    release();
    await write;
    // Once the write is acknowledged, every read sees it.
    expect(await driver.read((db) => db.all('SELECT id FROM t'))).toHaveLength(2);
  });

  it("keeps a member's undo copies in memory, not in a temporary file", async () => {
    const { driver } = await setup();
    // The files open in this process that have no name left: SQLite's temporary files.
    const unnamed = (): string[] =>
      readdirSync('/proc/self/fd').flatMap((fd) => {
        try {
          const target = readlinkSync(`/proc/self/fd/${fd}`);
          return target.endsWith('(deleted)') ? [target] : [];
        } catch {
          return []; // closed since it was listed
        }
      });
    const before = unnamed();
    let during: string[] = [];
    const pad = 'x'.repeat(400);
    await Promise.all([
      driver.tx(async (db) => {
        for (let i = 0; i < 1000; i++)
          await db.run('INSERT INTO t (id, seq) VALUES (?, ?)', [i, i]);
        await db.run('ALTER TABLE t ADD COLUMN pad TEXT');
        await db.run('UPDATE t SET pad = ?', [pad]);
      }),
      // The same group: this member changes the pages the one before it changed, so its
      // savepoint keeps an undo copy of each, far more than SQLite's 64 KiB in memory.
      driver.tx(async (db) => {
        await db.run('UPDATE t SET pad = ?, seq = seq + 1', [pad.toUpperCase()]);
        during = unnamed();
      }),
    ]);
    expect(during.filter((f) => !before.includes(f))).toEqual([]);
  });

  it('undoes a member that throws alone: its neighbours are committed', async () => {
    const { driver, committed } = await setup();
    const results = await Promise.allSettled([
      insert(driver, 1),
      driver.tx(async (db) => {
        await db.run('INSERT INTO t (id) VALUES (2)');
        throw new Error('member 2 changed its mind');
      }),
      insert(driver, 3),
      // A statement SQLite refuses (a duplicate key), after the member's own first write.
      driver.tx(async (db) => {
        await db.run('INSERT INTO t (id) VALUES (4)');
        await db.run('INSERT INTO t (id) VALUES (1)');
      }),
      insert(driver, 5),
    ]);
    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'rejected',
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
    expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/changed its mind/);
    expect(String((results[3] as PromiseRejectedResult).reason)).toMatch(/UNIQUE/);
    expect(committed()).toEqual([1, 3, 5]);
  });

  it('fails every member when the COMMIT fails, stores none of them, and goes on', async () => {
    const { driver, committed } = await setup();
    await driver.exec(
      'CREATE TABLE parent (id INTEGER PRIMARY KEY); CREATE TABLE child (parent INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)',
    );
    // A deferred foreign key is checked at COMMIT: member 2's dangling reference fails it.
    const results = await Promise.allSettled([
      insert(driver, 1),
      driver.tx((db) => db.run('INSERT INTO child (parent) VALUES (99)')),
      insert(driver, 3),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    for (const r of results) {
      expect(String((r as PromiseRejectedResult).reason)).toMatch(/FOREIGN KEY/);
    }
    expect(committed()).toEqual([]);
    await insert(driver, 4);
    expect(committed()).toEqual([4]);
  });

  it('waits for another process that holds the write lock, then commits the whole group', async () => {
    const { driver, path, committed } = await setup();
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `const D = require(${JSON.stringify(fileURLToPath(import.meta.resolve('better-sqlite3')))});
         const db = new D(${JSON.stringify(path)});
         db.exec('BEGIN IMMEDIATE'); db.exec('INSERT INTO t (id) VALUES (100)');
         process.stdout.write('held\\n');
         setTimeout(() => { db.exec('COMMIT'); db.close(); }, 200);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    cleanups.push(() => void holder.kill('SIGKILL'));
    await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
    // The group waits on the lock (the busy timeout) until the holder commits, 200 ms on.
    await Promise.all(Array.from({ length: 8 }, (_, i) => insert(driver, i)));
    expect(committed()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 100]);
  });
});

describe.skipIf(!canMount())('groups on a disk that fills up', () => {
  it('store every write they acknowledged and none they refused', async () => {
    const fs = mountTmpfs(1024 * 1024);
    cleanups.push(() => fs.remove());
    const path = join(fs.dir, 'warden.db');
    const driver = new SqliteDriver(path, { mustExist: false });
    cleanups.push(() => driver.close());
    await driver.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)');
    const filler = join(fs.dir, 'filler');
    try {
      for (;;) writeFileSync(filler, Buffer.alloc(16 * 1024), { flag: 'a' });
    } catch {
      // ENOSPC: full.
    }
    // Room for a few groups, so some are stored before the disk refuses one.
    truncateSync(filler, Math.max(0, statSync(filler).size - 256 * 1024));
    const acknowledged: number[] = [];
    const refused: unknown[] = [];
    // Groups of ten until the disk refuses some: a group fails as a whole or not at all.
    for (let batch = 0; batch < 100 && refused.length === 0; batch++) {
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) =>
          driver
            .tx((db) => db.run('INSERT INTO t VALUES (?, ?)', [batch * 10 + i, 'x'.repeat(8000)]))
            .then(() => batch * 10 + i),
        ),
      );
      for (const r of results) {
        if (r.status === 'fulfilled') acknowledged.push(r.value);
        else refused.push(r.reason);
      }
    }
    expect(acknowledged.length).toBeGreaterThan(0);
    expect(refused.length).toBeGreaterThan(0);
    for (const err of refused) {
      expect(err).toBeInstanceOf(WardenError);
      expect((err as WardenError).code).toBe('storage');
    }
    await driver.close();
    rmSync(filler);
    const db = new Database(path);
    cleanups.push(() => void db.close());
    expect(db.prepare('SELECT id FROM t ORDER BY id').pluck().all()).toEqual(acknowledged);
  });
});

describe('a process writing in groups and SIGKILLed', () => {
  it('loses no write it acknowledged', { timeout: 60_000 }, async () => {
    const path = join(tempDir(), 'warden.db');
    const writer = spawn(
      process.execPath,
      [fileURLToPath(new URL('../fixtures/group-commit-writer.mjs', import.meta.url)), path, '16'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    cleanups.push(() => void writer.kill('SIGKILL'));
    const acked: number[] = [];
    let buffered = '';
    const exited = new Promise<void>((resolve) => writer.once('exit', () => resolve()));
    await new Promise<void>((resolve) => {
      writer.stdout.on('data', (chunk: Buffer) => {
        const lines = (buffered + chunk.toString()).split('\n');
        buffered = lines.pop() ?? '';
        acked.push(...lines.map(Number));
        // Killed mid-stream: groups are in flight, some of them half run.
        if (acked.length >= 2000) {
          writer.kill('SIGKILL');
          resolve();
        }
      });
    });
    await exited;
    const db = new Database(path);
    cleanups.push(() => void db.close());
    const stored = new Set(db.prepare('SELECT id FROM acked').pluck().all() as number[]);
    const lost = acked.filter((id) => !stored.has(id));
    expect(acked.length).toBeGreaterThanOrEqual(2000);
    expect(lost).toEqual([]);
  });
});
