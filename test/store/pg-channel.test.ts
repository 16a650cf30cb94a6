/*
 * Each PostgreSQL schema notifies a channel of its own (issue #16): a commit in one warden
 * deployment must not wake the hosts of another on the same server. On a real PostgreSQL
 * (WARDEN_TEST_PG_URL); skipped without one, except in CI.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { person } from '../../src/core/actor.js';
import { ManualClock } from '../../src/core/clock.js';
import { PgDriver, changesChannel } from '../../src/store/postgres/driver.js';
import { openPgStore } from '../../src/store/postgres/open.js';
import type { RemoteChange } from '../../src/store/store.js';
import { waitFor } from '../helpers/host.js';
import { PG_URL, freshPgSchema } from '../helpers/pg-schemas.js';

const URL = PG_URL;

describe('changesChannel', () => {
  it('is warden_changes in the default schema and a short name of its own in any other', () => {
    expect(changesChannel(undefined)).toBe('warden_changes');
    const longest = 'a'.repeat(63);
    expect(changesChannel('alpha')).not.toBe(changesChannel('beta'));
    expect(changesChannel('alpha')).toBe(changesChannel('alpha'));
    expect(changesChannel(longest)).toMatch(/^warden_changes_[0-9a-f]{16}$/);
  });
});

describe.skipIf(!URL)('notifications per schema (PostgreSQL)', () => {
  it("a write in one schema notifies its own channel and not another schema's", async () => {
    const [mine, other] = [freshPgSchema(), freshPgSchema()];
    const a = await PgDriver.connect({ url: URL ?? '', schema: mine, max: 2 });
    const b = await PgDriver.connect({ url: URL ?? '', schema: other, max: 2 });
    const listener = new pg.Client({ connectionString: URL });
    const heard: string[] = [];
    try {
      for (const d of [a, b]) {
        await d.exec('CREATE TABLE t (x INTEGER)');
        await d.exec('CREATE TABLE write_turn (unused BOOLEAN)');
      }
      await listener.connect();
      listener.on('notification', (n) => heard.push(n.payload ?? ''));
      await listener.query(`LISTEN ${changesChannel(mine)}`);
      // Another schema's write, then a marker on my channel: notifications reach a listener
      // in commit order, so anything the other write sent here would come before the marker.
      await b.tx((db) => db.run('INSERT INTO t VALUES (1)'));
      await listener.query(`SELECT pg_notify('${changesChannel(mine)}', 'marker')`);
      await waitUntil('the marker', () => heard.includes('marker'));
      expect(heard).toEqual(['marker']);
      // My schema's write is heard.
      await a.tx((db) => db.run('INSERT INTO t VALUES (1)'));
      await waitUntil("my schema's write", () => heard.length > 1);
      expect(heard).toEqual(['marker', '']);
    } finally {
      await listener.end().catch(() => undefined);
      await a.close();
      await b.close();
    }
  });
});

describe.skipIf(!URL)("what another host's notice says (PostgreSQL)", () => {
  it('says when a commit changed a profile, and only then', async () => {
    const schema = freshPgSchema();
    const writer = await openPgStore({ url: URL ?? '', schema, max: 2 }, new ManualClock());
    const watcher = await openPgStore({ url: URL ?? '', schema, max: 2 }, new ManualClock());
    const heard: RemoteChange[] = [];
    const stop = watcher.watchChanges((c) => heard.push(c));
    const ana = person('ana');
    /** What the watcher hears of one write of the other store. */
    const after = async (write: () => Promise<unknown>): Promise<RemoteChange> => {
      const before = heard.length;
      await write();
      await waitUntil('the notice', () => heard.length > before);
      return heard[before] as RemoteChange;
    };
    try {
      // Listening, it says a change may have been missed: profiles may have changed.
      await waitUntil('the listener', () => heard.length > 0);
      expect(heard).toEqual([{ profiles: true }]);
      // Written once the watcher listens, or its notice could come after the next write's wait.
      await after(() => writer.addBoard('default', ana));
      expect(await after(() => writer.addProfile('agent', { mode: 'pull' }, ana))).toEqual({
        profiles: true,
      });
      const task = () => writer.createTask({ title: 'work', assignee: 'agent' }, ana);
      expect(await after(task)).toEqual({ profiles: false });
      expect(await after(() => writer.editProfile('agent', { env: { A: '1' } }, ana))).toEqual({
        profiles: true,
      });
      // Pausing changes no spec: whether a spawned profile exists is the same.
      const pause = () => writer.setProfilePaused('agent', true, 'lunch', ana);
      expect(await after(pause)).toEqual({ profiles: false });
      expect(await after(task)).toEqual({ profiles: false });
    } finally {
      stop();
      await watcher.close();
      await writer.close();
    }
  });
});

describe.skipIf(!URL)('watchers of one store (PostgreSQL)', () => {
  it('share one LISTEN connection, each told of a change, until the last one stops', async () => {
    const schema = freshPgSchema();
    const writer = await openPgStore({ url: URL ?? '', schema, max: 2 }, new ManualClock());
    const watcher = await openPgStore({ url: URL ?? '', schema, max: 2 }, new ManualClock());
    const admin = new pg.Client({ connectionString: URL });
    await admin.connect();
    const listeners = async (): Promise<number> => {
      const { rows } = await admin.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM pg_stat_activity WHERE query = $1',
        [`LISTEN ${changesChannel(schema)}`],
      );
      return rows[0]?.n ?? 0;
    };
    const one: RemoteChange[] = [];
    const two: RemoteChange[] = [];
    const stops: (() => void)[] = [];
    try {
      await writer.addBoard('default', person('ana'));
      stops.push(watcher.watchChanges((c) => one.push(c)));
      await waitUntil('the first listening', () => one.length > 0);
      // The second joins a connection already listening, and is told it may have missed one.
      stops.push(watcher.watchChanges((c) => two.push(c)));
      await waitUntil('the second told', () => two.length > 0);
      expect([one, two]).toEqual([[{ profiles: true }], [{ profiles: true }]]);
      expect(await listeners()).toBe(1);
      await writer.createTask({ title: 'work' }, person('ana'));
      await waitUntil('both told', () => one.length > 1 && two.length > 1);
      expect([one[1], two[1]]).toEqual([{ profiles: false }, { profiles: false }]);
      // One stops: the other still hears.
      stops[0]?.();
      await writer.createTask({ title: 'more' }, person('ana'));
      await waitUntil('the second told again', () => two.length > 2);
      expect(one).toHaveLength(2);
      expect(await listeners()).toBe(1);
      // The last stops: the connection goes.
      stops[1]?.();
      await waitFor('the connection to go', async () => (await listeners()) === 0);
      expect(await listeners()).toBe(0);
    } finally {
      for (const stop of stops) stop();
      await admin.end();
      await watcher.close();
      await writer.close();
    }
  });
});

async function waitUntil(what: string, ok: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
