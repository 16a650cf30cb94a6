/**
 * A newer warden does not upgrade a schema an older `serve` is running on (docs/operations.md
 * "Upgrading": stop every serve first). A user trial's refused `serve`, and a `doctor`, each
 * upgraded the database under the old `serve`, which went on writing to tables it did not
 * know. Both backends: the old `serve` as SQLite's hosts row knows it (its process) and as
 * PostgreSQL's (its lease). The schema is put back one version to stand for the older one.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import type { ProcessIdentity } from '../../src/core/run.js';
import { identify } from '../../src/os/procfs.js';
import { PgDriver } from '../../src/store/postgres/driver.js';
import { PG_MIGRATIONS } from '../../src/store/postgres/migrations.js';
import { openPgStore } from '../../src/store/postgres/open.js';
import type { SqlDb } from '../../src/store/sql/driver.js';
import { latestVersion } from '../../src/store/sql/migrate.js';
import { refuseWhileServed } from '../../src/store/upgrade-guard.js';
import { openReadOnly } from '../../src/store/sqlite/connect.js';
import { SqliteDriver } from '../../src/store/sqlite/driver.js';
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite/migrations.js';
import { openSqliteStore } from '../../src/store/sqlite/open.js';
import { waitFor } from '../helpers/host.js';
import { PG_URL, freshPgSchema } from '../helpers/pg-schemas.js';

/** Records `serve` `old` as running in process `p` on a schema put back to `version`. */
async function oldServeAt(db: SqlDb, p: ProcessIdentity, version: number): Promise<void> {
  await db.run(
    `INSERT INTO hosts (host_id, pid, boot_id, proc_start_time, url, started_at, renewed_at)
     VALUES ('old', ?, ?, ?, 'http://127.0.0.1:9', 0, 0)`,
    [p.pid, p.boot_id, p.start_time],
  );
  await setVersion(db, version);
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const REFUSED =
  /^the database schema is version (\d+) and this warden would upgrade it to (\d+), but an older warden serve is running on it \(host old/;

async function setVersion(db: SqlDb, version: number): Promise<void> {
  await db.run("UPDATE meta SET value = ? WHERE key = 'schema_version'", [String(version)]);
}

describe('upgrading a schema an older serve runs on', () => {
  it('SQLite: refused while its serve process lives, nothing written; allowed once it stopped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-upgrade-'));
    dirs.push(dir);
    const path = join(dir, 'warden.db');
    const latest = latestVersion(SQLITE_MIGRATIONS);
    const store = await openSqliteStore(path, new ManualClock(), { create: true });
    // This test's own process stands for the old serve: alive on this machine.
    const me = identify(process.pid);
    if (me === null) throw new Error('cannot read this process');
    await oldServeAt(store.sqlite, me, latest - 1);
    await store.close();

    await expect(openSqliteStore(path, new ManualClock())).rejects.toMatchObject({
      code: 'conflict',
      message: expect.stringMatching(REFUSED) as string,
    });
    const ro = openReadOnly(path).db;
    const row = ro.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as {
      value: string;
    };
    ro.close();
    expect(Number(row.value)).toBe(latest - 1);

    // Stopped (or its process gone), nothing holds the upgrade back.
    const driver = new SqliteDriver(path, { mustExist: true });
    try {
      await driver.tx(async (db) => {
        await db.run("UPDATE hosts SET pid = 1, proc_start_time = '0' WHERE host_id = 'old'");
        await refuseWhileServed(db, latest - 1, latest, Date.now(), path);
        await db.run("UPDATE hosts SET stopped_at = 1 WHERE host_id = 'old'");
        await refuseWhileServed(db, latest - 1, latest, Date.now(), path);
      });
    } finally {
      await driver.close();
    }
  });

  it('SQLite: a live serve of another home (this file a copy of its database) does not hold it back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-upgrade-'));
    dirs.push(dir);
    const path = join(dir, 'warden.db');
    const latest = latestVersion(SQLITE_MIGRATIONS);
    const store = await openSqliteStore(path, new ManualClock(), { create: true });
    // Alive on this machine, but with another file open: a restored backup's recorded serve.
    const other = spawn('sleep', ['30'], { stdio: 'ignore' });
    const exited = once(other, 'exit');
    try {
      const them = await waitFor('the other process', () => identify(other.pid ?? -1) ?? undefined);
      await oldServeAt(store.sqlite, them, latest - 1);
      await store.close();
      const upgraded = await openSqliteStore(path, new ManualClock());
      await upgraded.close();
      const ro = openReadOnly(path).db;
      const row = ro.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as {
        value: string;
      };
      ro.close();
      expect(Number(row.value)).toBe(latest);
    } finally {
      other.kill('SIGKILL');
      await exited;
    }
  });

  it.skipIf(!PG_URL)(
    'PostgreSQL: refused while a host lease is good, naming when it runs out; allowed once it lapsed',
    async () => {
      const schema = freshPgSchema();
      const latest = latestVersion(PG_MIGRATIONS);
      const store = await openPgStore({ url: PG_URL ?? '', schema, max: 2 }, new ManualClock());
      // A host of another machine: known by its lease only.
      await store.pg.run(
        `INSERT INTO hosts (host_id, started_at, renewed_at, lease_expires_at)
         VALUES ('old', 0, 0, CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT) + 600000)`,
      );
      await setVersion(store.pg, latest - 1);
      await store.close();

      await expect(
        openPgStore({ url: PG_URL ?? '', schema, max: 2 }, new ManualClock()),
      ).rejects.toMatchObject({
        code: 'conflict',
        message: expect.stringMatching(
          /\(host old\) \(its lease runs until \d{4}-\d\d-\d\dT[\d:.]+Z; if that serve is gone, run this again then\)/,
        ) as string,
      });

      const driver = await PgDriver.connect({ url: PG_URL ?? '', schema, max: 1 });
      try {
        await driver.tx(async (db) => {
          const row = await db.get<{ value: string }>(
            "SELECT value FROM meta WHERE key = 'schema_version'",
          );
          expect(Number(row?.value)).toBe(latest - 1);
          await db.run("UPDATE hosts SET lease_expires_at = 1 WHERE host_id = 'old'");
          await refuseWhileServed(db, latest - 1, latest, Date.now(), null);
        });
      } finally {
        await driver.close();
      }
    },
  );
});
