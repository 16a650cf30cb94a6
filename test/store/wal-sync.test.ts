/*
 * Durability off the event loop (issue #16): SQLite commits a group with synchronous=NORMAL
 * and warden syncs the WAL itself (src/store/sqlite/wal-sync.ts) before anyone is answered.
 * Checked two ways: at the system calls of a real writer process under strace (every
 * acknowledgement comes after an fdatasync of everything written to the WAL before it), and
 * on the group commit with the sync held in the test's hand (what waits for it, what runs
 * meanwhile, what a failed sync does).
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { WardenError } from '../../src/core/errors.js';
import type { SqlDb, SqlParam } from '../../src/store/sql/driver.js';
import { GroupCommit } from '../../src/store/sqlite/group-commit.js';
import { SqliteDriver } from '../../src/store/sqlite/driver.js';
import { syncFailedError } from '../../src/store/storage-errors.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'warden-walsync-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('the SQLite driver', () => {
  it('keeps the WAL open a second time, to sync it, and closes it with the store', async () => {
    const path = join(tempDir(), 'warden.db');
    const driver = new SqliteDriver(path, { mustExist: false });
    await driver.exec('CREATE TABLE t (id INTEGER PRIMARY KEY)');
    await driver.tx((db) => db.run('INSERT INTO t VALUES (1)'));
    const walOpen = (): number =>
      readdirSync(`/proc/${process.pid}/fd`).filter((fd) => {
        try {
          return readlinkSync(`/proc/${process.pid}/fd/${fd}`).startsWith(`${path}-wal`);
        } catch {
          return false; // closed since it was listed
        }
      }).length;
    // SQLite's own descriptor and warden's.
    expect(walOpen()).toBe(2);
    await driver.close();
    expect(walOpen()).toBe(0);
  });
});

/**
 * What a strace log of a writer says at each acknowledgement (a write to its stdout): how many
 * acknowledgements there were, how many syncs of the WAL, and every acknowledgement made while
 * something written to the WAL before it had not yet been synced by an fdatasync (or fsync)
 * that started after that write and returned before the acknowledgement.
 */
function acknowledgements(log: string): { acks: number; syncs: number; early: string[] } {
  let written = 0; // writes to the WAL so far
  let synced = 0; // of those, how many a returned sync covers
  const pending = new Map<string, number>(); // a sync still running, by thread: what it covers
  let acks = 0;
  let syncs = 0;
  const early: string[] = [];
  for (const line of log.split('\n')) {
    const m = /^(\d+) +(.*)$/.exec(line); // strace pads short pids
    if (!m) continue;
    const [, pid = '', call = ''] = m;
    if (/^(pwrite64|pwritev|write|writev)\(\d+<[^>]*-wal>/.test(call)) written++;
    else if (/^(fdatasync|fsync)\(\d+<[^>]*-wal>/.test(call)) {
      if (/<unfinished \.\.\.>$/.test(call)) pending.set(pid, written);
      else if (/= 0$/.test(call)) {
        synced = Math.max(synced, written);
        syncs++;
      }
    } else if (/^<\.\.\. (fdatasync|fsync) resumed>.*= 0$/.test(call)) {
      synced = Math.max(synced, pending.get(pid) ?? 0);
      pending.delete(pid);
      syncs++;
    } else if (/^write\(1</.test(call)) {
      acks++;
      if (synced < written) early.push(line);
    }
  }
  return { acks, syncs, early };
}

const hasStrace = spawnSync('strace', ['-V']).status === 0;

describe.skipIf(!hasStrace)(
  `a writer's acknowledgements${hasStrace ? '' : ' (strace not installed here)'}`,
  () => {
    it('each come after the WAL holding them was fdatasynced', { timeout: 60_000 }, async () => {
      const dir = tempDir();
      const log = join(dir, 'strace.log');
      // The writer stops by itself after 500 rows, so strace ends with the whole trace written.
      const writer = spawn(
        'strace',
        [
          ...['-f', '-y', '-qq', '-o', log],
          ...['-e', 'trace=pwrite64,pwritev,write,writev,fdatasync,fsync'],
          process.execPath,
          fileURLToPath(new URL('../fixtures/group-commit-writer.mjs', import.meta.url)),
          join(dir, 'warden.db'),
          '8',
          '500',
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      cleanups.push(() => void writer.kill('SIGKILL'));
      let acked = 0;
      writer.stdout.on('data', (chunk: Buffer) => {
        acked += chunk.toString().split('\n').length - 1;
      });
      const [code] = (await once(writer, 'close')) as [number | null];
      expect(code).toBe(0);
      expect(acked).toBe(500);
      const seen = acknowledgements(readFileSync(log, 'utf8'));
      expect(seen.acks, readFileSync(log, 'utf8').slice(0, 2000)).toBe(500);
      // Eight transactions in flight: groups, so fewer syncs than acknowledgements.
      expect(seen.syncs).toBeGreaterThan(0);
      expect(seen.syncs).toBeLessThan(seen.acks);
      expect(seen.early).toEqual([]);
    });
  },
);

/** A promise the test settles, standing for one sync of the disk. */
interface HeldSync {
  release(): void;
  fail(err: unknown): void;
}

/** A group commit on a real file whose syncs wait for the test to release them. */
function heldGroups(): {
  groups: GroupCommit;
  syncs: HeldSync[];
  nextSync: () => Promise<HeldSync>;
  committed: () => number[];
  /** Syncs made on the spot, which nothing holds. */
  onTheSpot: () => number;
} {
  const path = join(tempDir(), 'warden.db');
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY)');
  cleanups.push(() => void db.close());
  const statements: SqlDb = {
    dialect: 'sqlite',
    all: <T>(sql: string, params: readonly SqlParam[] = []) =>
      Promise.resolve(db.prepare(sql).all(...params) as T[]),
    get: <T>(sql: string, params: readonly SqlParam[] = []) =>
      Promise.resolve(db.prepare(sql).get(...params) as T | undefined),
    run: (sql, params = []) => Promise.resolve(db.prepare(sql).run(...params).changes),
    defer: (sql, params = []) => Promise.resolve(void db.prepare(sql).run(...params)),
    allLater: <T>(sql: string, params: readonly SqlParam[] = []) =>
      Promise.resolve({ rows: Promise.resolve(db.prepare(sql).all(...params) as T[]) }),
    exec: (sql) => Promise.resolve(void db.exec(sql)),
  };
  const syncs: HeldSync[] = [];
  let waiting: ((s: HeldSync) => void) | null = null;
  let spot = 0;
  const durable = {
    now: (): void => void spot++,
    later: (): Promise<void> =>
      new Promise<void>((resolve, reject) => {
        const held = { release: resolve, fail: reject };
        syncs.push(held);
        waiting?.(held);
        waiting = null;
      }),
  };
  const groups = new GroupCommit(
    db,
    statements,
    { maxMembers: 64, maxMs: 1000 },
    () => Promise.resolve(void db.exec('BEGIN IMMEDIATE')),
    durable,
  );
  const other = new Database(path, { readonly: true });
  cleanups.push(() => void other.close());
  const ids = other.prepare('SELECT id FROM t ORDER BY id').pluck();
  return {
    groups,
    syncs,
    nextSync: () => new Promise<HeldSync>((resolve) => (waiting = resolve)),
    committed: () => ids.all() as number[],
    onTheSpot: () => spot,
  };
}

function insert(groups: GroupCommit, id: number, ran?: () => void): Promise<number> {
  return groups.submit(true, false, async (db) => {
    ran?.();
    return db.run('INSERT INTO t (id) VALUES (?)', [id]);
  });
}

/** Whether `p` has settled, after the event loop has had a turn. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  return done;
}

describe('group commit with the sync off the event loop', () => {
  it('answers a group after its sync, while the next group runs but does not commit', async () => {
    const { groups, nextSync, committed } = heldGroups();
    const first = nextSync();
    const a = insert(groups, 1);
    const syncA = await first;
    // Committed (another connection sees it), not yet answered: its sync has not returned.
    expect(committed()).toEqual([1]);
    expect(await settled(a)).toBe(false);
    let bRan = false;
    const b = insert(groups, 2, () => (bRan = true));
    expect(await settled(b)).toBe(false);
    // The next group ran meanwhile, one group ahead of the disk, and waits to commit.
    expect(bRan).toBe(true);
    expect(committed()).toEqual([1]);
    const second = nextSync();
    syncA.release();
    expect(await a).toBe(1);
    const syncB = await second;
    expect(committed()).toEqual([1, 2]);
    expect(await settled(b)).toBe(false);
    syncB.release();
    expect(await b).toBe(1);
  });

  it('answers a read only once what it may have seen is on disk', async () => {
    const { groups, nextSync } = heldGroups();
    const first = nextSync();
    const a = insert(groups, 1);
    const sync = await first;
    const read = groups.submit(false, true, (db) => db.all<{ id: number }>('SELECT id FROM t'));
    const elsewhere = groups.durableSoFar();
    expect(await settled(read)).toBe(false);
    expect(await settled(elsewhere)).toBe(false);
    sync.release();
    await a;
    expect(await read).toEqual([{ id: 1 }]);
    await elsewhere;
  });

  it('syncs on the spot while nothing else arrives during a sync, and looks again now and then', async () => {
    const { groups, syncs, nextSync, onTheSpot } = heldGroups();
    // The first sync goes off the event loop, and nothing else arrives while it runs.
    const first = nextSync();
    const a = insert(groups, 1);
    (await first).release();
    await a;
    // So the next commits are synced on the spot: answered with no sync held by the test.
    for (let id = 2; id <= 16; id++) await insert(groups, id);
    expect(onTheSpot()).toBe(15);
    expect(syncs).toHaveLength(1);
    // The sixteenth goes off the loop again, to see whether other work arrives now.
    const probe = nextSync();
    const b = insert(groups, 17);
    const held = await probe;
    // It does: a write asked for meanwhile keeps the syncs off the loop.
    const c = insert(groups, 18);
    held.release();
    await b;
    const next = nextSync();
    (await next).release();
    await c;
    expect(onTheSpot()).toBe(15);
    expect(syncs).toHaveLength(3);
  });

  it('fails everyone waiting on a failed sync, and every write after it, in words', async () => {
    const { groups, nextSync } = heldGroups();
    const first = nextSync();
    const a = insert(groups, 1);
    const sync = await first;
    const b = insert(groups, 2);
    const err = syncFailedError(
      '/data/warden.db',
      Object.assign(new Error('i/o error'), { code: 'EIO', syscall: 'fdatasync' }),
    );
    sync.fail(err);
    const results = await Promise.allSettled([a, b, insert(groups, 3)]);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      const reason = (r as PromiseRejectedResult).reason as WardenError;
      expect(reason).toBeInstanceOf(WardenError);
      expect(reason.code).toBe('storage');
      expect(reason.message).toMatch(
        /^\/data\/warden\.db: the disk did not confirm the last writes \(EIO: fdatasync \/data\/warden\.db-wal\).*restart and run `warden check`$/,
      );
    }
    await expect(groups.durableSoFar()).rejects.toBe(err);
  });
});
