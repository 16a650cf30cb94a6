/*
 * Round trips of a pull task on PostgreSQL (issue #16), counted at a real TCP relay between the
 * store and the server. Claims that wait for the admission turn together are made in one
 * transaction of two round trips (BEGIN with the read of what admission works from; one
 * statement making every run and its event, with the COMMIT), however many there are. A report
 * that closes its pull run takes two (BEGIN with the fence's read; the close, its events and
 * the COMMIT), and so do reports made together, however many. The batch's admission itself (caps,
 * order) is in the store suite, on both backends (runs-suite.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { person } from '../../src/core/actor.js';
import { ManualClock } from '../../src/core/clock.js';
import { hashToken } from '../../src/os/token.js';
import { openPgStore } from '../../src/store/postgres/open.js';
import type { PgStore } from '../../src/store/postgres/open.js';
import { FlightCounter } from '../helpers/flight-counter.js';
import { PG_URL, freshPgSchema } from '../helpers/pg-schemas.js';

const ana = person('ana');
const closing: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closing.splice(0).reverse()) await close();
});

async function storeThrough(relay: FlightCounter, mode: 'spawned' | 'pull'): Promise<PgStore> {
  const url = relay.url(new URL(PG_URL ?? ''));
  const store = await openPgStore({ url, schema: freshPgSchema(), max: 4 }, new ManualClock());
  closing.push(() => store.close());
  await store.addBoard('default', ana);
  await store.addProfile('p', { argv: mode === 'pull' ? [] : ['true'], mode }, ana);
  return store;
}

async function relayed(): Promise<FlightCounter> {
  const relay = await FlightCounter.start(new URL(PG_URL ?? ''));
  closing.push(() => relay.close());
  return relay;
}

describe.skipIf(!PG_URL)('claims batched under the admission turn (PostgreSQL)', () => {
  it('makes the claims that waited together in two round trips, not two per claim', async () => {
    const relay = await relayed();
    const store = await storeThrough(relay, 'spawned');
    for (let i = 0; i < 10; i++) await store.createTask({ title: `t${i}`, assignee: 'p' }, ana);
    const claim = (host: string) =>
      store.claimRuns({ host, maxWorkers: 2, limit: 2, mode: 'spawned', noLook: true }, '/ws');

    let before = relay.flights;
    expect(await claim('alone')).toHaveLength(2);
    const alone = relay.flights - before;
    expect(alone).toBe(2);

    // The first runs alone; the four sent while it runs wait for it and then go together.
    before = relay.flights;
    const made = await Promise.all(['h1', 'h2', 'h3', 'h4', 'h5'].map(claim));
    expect(made.map((c) => c.length)).toEqual([2, 2, 2, 2, 0]);
    expect(relay.flights - before).toBe(2 * alone);
  });

  it('closes a pull run on its report in two round trips, and a group of reports made together in the same two', async () => {
    const relay = await relayed();
    const store = await storeThrough(relay, 'pull');
    for (let i = 0; i < 5; i++) await store.createTask({ title: `t${i}`, assignee: 'p' }, ana);
    const claims = await store.claimRuns(
      { host: 'h1', maxWorkers: 5, limit: 5, mode: 'pull', workerId: 'lease-1', noLook: true },
      null,
    );
    expect(claims).toHaveLength(5);
    const report = (token: string) =>
      store.workerTerminal(
        hashToken(token),
        { op: 'complete', summary: 'done' },
        { host: 'h1', config: {} },
      );

    let before = relay.flights;
    const [first, ...rest] = claims;
    await report(first?.token ?? '');
    expect(relay.flights - before).toBe(2);

    // Made in one turn of the event loop, the four go in one transaction: their runs read in
    // one statement with its BEGIN, then closed in one with their events and the COMMIT.
    before = relay.flights;
    await Promise.all(rest.map((c) => report(c.token)));
    expect(relay.flights - before).toBe(2);
    for (const c of claims) expect((await store.getTask(c.task.id)).status).toBe('done');
  });
});
