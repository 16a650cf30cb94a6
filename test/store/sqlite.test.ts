import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { person } from '../../src/core/actor.js';
import { ManualClock } from '../../src/core/clock.js';
import { WardenError } from '../../src/core/errors.js';
import { openSqliteStore } from '../../src/store/sqlite/open.js';
import { runApplySuite } from './apply-suite.js';
import { runGcSuite } from './gc-suite.js';
import { runScheduleSuite } from './schedule-suite.js';
import { runRunSuite } from './runs-suite.js';
import { runStoreSuite } from './suite.js';
import { runWorktreeSuite } from './worktree-suite.js';
import { runLlmSuite } from './llm-suite.js';
import { runTimelineSuite } from './timeline-suite.js';
import { runPeopleSuite } from './people-suite.js';
import { runNotifySuite } from './notify-suite.js';
import { runEventWalkSuite } from './event-walk-suite.js';
import { runInboxSuite } from './inbox-suite.js';
import { runReportSuite } from './report-suite.js';
import type { StoreFixture } from './suite.js';
import { waitFor } from '../helpers/host.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'warden-store-'));
}

async function makeSqlite(): Promise<StoreFixture> {
  const dir = tempDir();
  const clock = new ManualClock();
  const store = await openSqliteStore(join(dir, 'warden.db'), clock, { create: true });
  await store.addBoard('default', person('ana'));
  return {
    store,
    clock,
    db: store.sqlite,
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

runStoreSuite('sqlite', makeSqlite);
runRunSuite('sqlite', makeSqlite);
runGcSuite('sqlite', makeSqlite);
runWorktreeSuite('sqlite', makeSqlite);
runLlmSuite('sqlite', makeSqlite);
runTimelineSuite('sqlite', makeSqlite);
runPeopleSuite('sqlite', makeSqlite);
runInboxSuite('sqlite', makeSqlite);
runReportSuite('sqlite', makeSqlite);
runScheduleSuite('sqlite', makeSqlite);
runApplySuite('sqlite', makeSqlite);
runNotifySuite('sqlite', makeSqlite);
runEventWalkSuite('sqlite', makeSqlite);

describe('SQLite specifics', () => {
  it('tells every watcher of another connection’s commit from one poll, and stops telling those that stopped watching', async () => {
    const dir = tempDir();
    const path = join(dir, 'warden.db');
    const mine = await openSqliteStore(path, new ManualClock(), { create: true });
    const other = await openSqliteStore(path, new ManualClock());
    try {
      await mine.addBoard('default', person('ana'));
      const seen = { a: 0, b: 0 };
      const unwatchA = mine.watchChanges(() => seen.a++);
      const unwatchB = mine.watchChanges(() => seen.b++);
      await other.createTask({ title: 'first' }, person('ana'));
      await waitFor('both watchers told', () => (seen.a > 0 && seen.b > 0) || undefined);
      unwatchA();
      const before = { ...seen };
      await other.createTask({ title: 'second' }, person('ana'));
      await waitFor('the remaining watcher told', () => seen.b > before.b || undefined);
      expect(seen.a).toBe(before.a);
      unwatchB();
    } finally {
      await other.close();
      await mine.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('never creates a database that is missing unless asked', async () => {
    const dir = tempDir();
    await expect(openSqliteStore(join(dir, 'warden.db'), new ManualClock())).rejects.toThrow(
      /warden init/,
    );
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a database whose schema is newer than this build', async () => {
    const dir = tempDir();
    const path = join(dir, 'warden.db');
    const store = await openSqliteStore(path, new ManualClock(), { create: true });
    await store.close();
    const raw = new Database(path);
    raw.prepare("UPDATE meta SET value = '999' WHERE key = 'schema_version'").run();
    raw.close();
    const err = await openSqliteStore(path, new ManualClock()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WardenError);
    expect((err as WardenError).message).toMatch(/schema is version 999, newer than this warden/);
    rmSync(dir, { recursive: true, force: true });
  });

  // SQLite commits without syncing; warden syncs the WAL before it answers (wal-sync.test.ts).
  it('uses WAL with synchronous=NORMAL', async () => {
    const dir = tempDir();
    const store = await openSqliteStore(join(dir, 'warden.db'), new ManualClock(), {
      create: true,
    });
    const db = store.sqlite.connection;
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(1);
    await store.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lets two connections write at once without losing a write', async () => {
    const dir = tempDir();
    const path = join(dir, 'warden.db');
    const a = await openSqliteStore(path, new ManualClock(), { create: true });
    await a.addBoard('default', person('ana'));
    const b = await openSqliteStore(path, new ManualClock());
    const writes = Array.from({ length: 100 }, (_, i) =>
      (i % 2 === 0 ? a : b).createTask({ title: `t${i}` }, person('ana')),
    );
    const tasks = await Promise.all(writes);
    expect(new Set(tasks.map((t) => t.id)).size).toBe(100);
    expect(await a.listTasks({ board: 'default' })).toHaveLength(100);
    await a.close();
    await b.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
