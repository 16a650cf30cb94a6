/*
 * A PostgreSQL connection cut off without a word (a failover to another address, a NAT that
 * forgot it) is found and closed in seconds, not the kernel's 15 minutes, and the next try
 * goes through a new connection; a slow statement or a lock wait is not taken for one. On a
 * real PostgreSQL (WARDEN_TEST_PG_URL) behind a real TCP proxy that cuts connections off;
 * skipped without one, except in CI.
 */
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/config/clock.js';
import { deadBecause } from '../../src/store/postgres/connection-watch.js';
import type { BackendActivity } from '../../src/store/postgres/connection-watch.js';
import { PgDriver } from '../../src/store/postgres/driver.js';
import { openPgStore } from '../../src/store/postgres/open.js';
import { isUnreachable } from '../../src/store/storage-errors.js';
import type { RemoteChange } from '../../src/store/store.js';
import { blackholeProxy } from '../helpers/blackhole-proxy.js';
import type { BlackholeProxy } from '../helpers/blackhole-proxy.js';
import { waitFor } from '../helpers/host.js';
import { PG_URL, freshPgSchema } from '../helpers/pg-schemas.js';

describe('deadBecause', () => {
  const row = (
    state: string | null,
    state_ms: number,
    wait_event: string | null = null,
    query: string | null = 'SELECT 1',
  ): BackendActivity => ({ state, state_ms, wait_event, query });

  it('finds dead a connection whose server process is gone, idle, waiting on it, or cannot send', () => {
    expect(deadBecause(null)).toMatch(/gone/);
    expect(deadBecause(row('idle', 4_000))).toBe('its server process is outside any transaction');
    expect(deadBecause(row('idle in transaction', 1_500))).toMatch(/waiting for it/);
    expect(deadBecause(row('idle in transaction (aborted)', 1_500))).toMatch(/waiting for it/);
    expect(deadBecause(row('active', 10, 'ClientWrite'))).toMatch(/cannot send/);
    // Cut off between a statement's parts: PostgreSQL waits for the rest.
    expect(deadBecause(row('active', 1_500, 'ClientRead'))).toMatch(/rest of a statement/);
  });

  it('says so when the lost answer was a COMMIT’s: the work took effect', () => {
    const notifyThenCommit =
      "SELECT CASE WHEN pg_current_xact_id_if_assigned() IS NOT NULL THEN pg_notify('warden_changes', '') END; COMMIT";
    expect(deadBecause(row('idle', 2_000, 'ClientRead', notifyThenCommit))).toMatch(
      /after a COMMIT \(which took effect; its answer was lost\)/,
    );
    expect(deadBecause(row('idle', 2_000, 'ClientRead', 'COMMIT'))).toMatch(/after a COMMIT/);
    expect(deadBecause(row('idle', 2_000, 'ClientRead', 'SELECT 1'))).not.toMatch(/COMMIT/);
  });

  it('leaves a connection whose server is working for it, or whose answer may be under way', () => {
    expect(deadBecause(row('active', 60_000))).toBeNull();
    expect(deadBecause(row('active', 60_000, 'relation'))).toBeNull();
    expect(deadBecause(row('active', 60_000, 'transactionid'))).toBeNull();
    expect(deadBecause(row('active', 200, 'ClientRead'))).toBeNull();
    expect(deadBecause(row('idle in transaction', 200))).toBeNull();
    expect(deadBecause(row('idle', 200))).toBeNull();
  });

  it('judges nothing when the server will not say (another role without the right to see it)', () => {
    expect(deadBecause(row(null, Number.NaN, null, null))).toBeNull();
  });
});

describe.skipIf(!PG_URL)('connections cut off without a word (PostgreSQL)', () => {
  let proxy: BlackholeProxy | null = null;
  let driver: PgDriver | null = null;

  afterEach(async () => {
    await driver?.close();
    driver = null;
    await proxy?.close();
    proxy = null;
  });

  async function behindProxy(quietMs = 500): Promise<{ proxy: BlackholeProxy; db: PgDriver }> {
    proxy = await blackholeProxy(PG_URL ?? '');
    driver = await PgDriver.connect({ url: proxy.url, schema: freshPgSchema(), max: 3, quietMs });
    await driver.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)');
    await driver.exec('CREATE TABLE write_turn (unused BOOLEAN)');
    await driver.exec('INSERT INTO t VALUES (1, 0)');
    return { proxy, db: driver };
  }

  const bump = (db: PgDriver): Promise<number> =>
    db.tx((tx) => tx.run('UPDATE t SET n = n + 1 WHERE id = 1'));

  it('fails a transaction on a dead connection as an unreachable store, and the next goes through a new one', async () => {
    const { proxy, db } = await behindProxy();
    expect(await bump(db)).toBe(1);
    const pid = (): Promise<number | undefined> =>
      db.get<{ pid: number }>('SELECT pg_backend_pid() AS pid').then((r) => r?.pid);
    const before = await pid();
    proxy.blackhole();

    // Without the watch this waits until the kernel gives the connection up (here, for ever:
    // the proxy takes what is sent and drops it).
    const err = await bump(db).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect(isUnreachable(err)).toBe(true);
    expect(String(err)).toMatch(
      /PostgreSQL connection to server process \d+ heard nothing for [\d.]+s and its server process is outside any transaction; it was closed/,
    );

    expect(await bump(db)).toBe(1);
    expect(await pid()).not.toBe(before);
    expect(await db.get<{ n: number }>('SELECT n FROM t WHERE id = 1')).toEqual({ n: 2 });
  }, 30_000);

  it('fails a statement outside any transaction on a dead connection the same way', async () => {
    const { proxy, db } = await behindProxy();
    expect(await db.get<{ one: number }>('SELECT 1 AS one')).toEqual({ one: 1 });
    proxy.blackhole();
    const err = await db.get('SELECT 1 AS one').then(
      () => null,
      (e: unknown) => e,
    );
    expect(isUnreachable(err)).toBe(true);
    expect(String(err)).toMatch(/heard nothing for/);
    expect(await db.get<{ one: number }>('SELECT 1 AS one')).toEqual({ one: 1 });
  }, 30_000);

  it('waits for a slow statement and for a lock, which are the server working', async () => {
    const { db } = await behindProxy(300);
    // A statement that runs for 2 s: the server says it is active, again and again.
    await db.tx((tx) => tx.get('SELECT pg_sleep(2)'));

    // A row held for 2 s by another session: the update waits on its lock.
    const holder = new pg.Client({ connectionString: PG_URL });
    await holder.connect();
    try {
      const schema = (await db.get<{ s: string }>('SELECT current_schema() AS s'))?.s ?? '';
      await holder.query(`SET search_path = ${schema}`);
      await holder.query('BEGIN');
      await holder.query('SELECT * FROM t WHERE id = 1 FOR UPDATE');
      const waiting = bump(db);
      await new Promise((r) => setTimeout(r, 2_000));
      await holder.query('COMMIT');
      expect(await waiting).toBe(1);
    } finally {
      await holder.end();
    }
  }, 30_000);

  it('listens again when the LISTEN connection is cut off, so other hosts still wake it', async () => {
    const cutter = await blackholeProxy(PG_URL ?? '');
    proxy = cutter;
    const schema = freshPgSchema();
    driver = await PgDriver.connect({ url: cutter.url, schema, max: 2, listenCheckMs: 200 });
    const other = await PgDriver.connect({ url: PG_URL ?? '', schema, max: 1 });
    try {
      await other.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)');
      await other.exec('CREATE TABLE write_turn (unused BOOLEAN)');
      const heard: RemoteChange[] = [];
      driver.watch((change) => heard.push(change));
      const write = (id: number): Promise<number> =>
        other.tx((tx) => tx.run('INSERT INTO t VALUES (?, 0)', [id]));
      // Listening: another host's commit is heard (a change of no profile).
      let id = 0;
      await waitFor('a commit heard', async () => {
        await write(++id);
        return heard.some((c) => !c.profiles);
      });
      // Cut off: the check finds the connection dead (no answer in 5 s) and listens anew; only
      // the LISTEN connection is opened through the proxy meanwhile (the pool sits idle).
      const cut = cutter.opened();
      cutter.blackhole();
      await waitFor('a new LISTEN connection', () => cutter.opened() > cut, 20_000);
      // Notices of the writes above that were under way at the cut have all come by now.
      heard.length = 0;
      await waitFor('a commit heard after the cut', async () => {
        await write(++id);
        return heard.some((c) => !c.profiles);
      });
    } finally {
      await other.close();
    }
  }, 30_000);

  it('renews a host lease through a new connection once the old ones are cut off', async () => {
    proxy = await blackholeProxy(PG_URL ?? '');
    const store = await openPgStore(
      { url: proxy.url, schema: freshPgSchema(), max: 2, quietMs: 500 },
      systemClock,
    );
    try {
      const first = await store.renewHostLease('h', 'secret', 30_000);
      proxy.blackhole();
      // The first try after the cut may land on a dead connection and fail; a later one is
      // taken, in seconds.
      let renewed: { renewed_at: number } | null = null;
      for (let i = 0; i < 3 && renewed === null; i++) {
        renewed = await store.renewHostLease('h', 'secret', 30_000).catch((e: unknown) => {
          expect(isUnreachable(e)).toBe(true);
          return null;
        });
      }
      expect(renewed?.renewed_at).toBeGreaterThanOrEqual(first.renewed_at);
    } finally {
      await store.close();
    }
  }, 30_000);
});

describe.skipIf(!PG_URL)('a server that refuses connections for now (PostgreSQL)', () => {
  it('is unreachable, not an error: a database not accepting connections, a role at its limit', async () => {
    // A trial's outage (ALTER DATABASE ... ALLOW_CONNECTIONS false) answered 500s with stacks,
    // and every pull lease lapsed as if the store had answered.
    const suffix = `${process.pid}_${Date.now()}`;
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    const db = `warden_refusing_${suffix}`;
    const role = `warden_full_${suffix}`;
    const connectError = async (url: URL): Promise<unknown> => {
      const c = new pg.Client({ connectionString: url.toString() });
      return c.connect().then(
        async () => {
          await c.end();
          return null;
        },
        (e: unknown) => e,
      );
    };
    try {
      await admin.query(`CREATE DATABASE ${db} WITH ALLOW_CONNECTIONS false`);
      await admin.query(`CREATE ROLE ${role} LOGIN CONNECTION LIMIT 0`);
      const closed = new URL(PG_URL ?? '');
      closed.pathname = `/${db}`;
      const refused = await connectError(closed);
      expect(refused).toMatchObject({ code: '55000' });
      expect(isUnreachable(refused)).toBe(true);
      const full = new URL(PG_URL ?? '');
      full.username = role;
      const tooMany = await connectError(full);
      expect(tooMany).toMatchObject({ code: '53300' });
      expect(isUnreachable(tooMany)).toBe(true);
      // Not every error of those classes: a prerequisite a statement lacks is the statement's.
      expect(
        isUnreachable(Object.assign(new Error('currval of sequence'), { code: '55000' })),
      ).toBe(false);
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${db}`);
      await admin.query(`DROP ROLE IF EXISTS ${role}`);
      await admin.end();
    }
  });
});
