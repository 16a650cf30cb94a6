import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { hashToken as sha256 } from '../../src/os/token.js';
import type { Harness } from './harness.js';
import { ana, expectError, makeHarness } from './harness.js';

// A span in which serve itself did not run (the machine suspended, the process stopped, its
// event loop held) costs no pull worker its lease, and no pull run its silence (SPEC §3: a
// suspend shifts every deadline). The clock is moved by hand: moved in one step, serve was
// absent; moved in steps with a beat after each (`present`), serve ran and nobody called.

let h: Harness;
const WORKER = 'wdn_pull_worker_secret';

beforeEach(async () => {
  h = await makeHarness();
  await h.store.addProfile(
    'agent',
    { mode: 'pull', policy: { stall_warn_after: 10_000, stall_timeout: 20_000 } },
    ana,
  );
  await h.store.addToken(
    { name: 'pullers', kind: 'worker', hash: sha256(WORKER), profiles: ['agent'] },
    ana,
  );
  h.pull.grace.watch();
});
afterEach(async () => {
  await h.cleanup();
});

/** Serve runs for `ms` and nobody calls: the clock moves a beat at a time. */
async function ranFor(ms: number): Promise<void> {
  for (let left = ms; left > 0; left -= 250) {
    h.clock.advance(Math.min(250, left));
    await h.pull.grace.present();
  }
}

async function leaseAndClaim(): Promise<{ leaseId: string; runId: number }> {
  const l = await h.request('POST', '/api/v1/pull/leases', {
    token: WORKER,
    json: { name: 'test:1' },
  });
  expect(l.status, l.text).toBe(200);
  const leaseId = (l.body as { lease_id: string }).lease_id;
  await h.store.createTask({ title: 'pull me', assignee: 'agent' }, ana);
  const c = await h.request('POST', '/api/v1/pull/claim', {
    token: WORKER,
    json: { lease_id: leaseId, max: 1, wait_ms: 0 },
  });
  expect(c.status, c.text).toBe(200);
  const runId = (c.body as { claims: { run_id: number }[] }).claims[0]?.run_id ?? 0;
  return { leaseId, runId };
}

function renew(leaseId: string) {
  return h.request('POST', `/api/v1/pull/leases/${leaseId}/renew`, { token: WORKER, json: {} });
}

describe('an absence of serve (pull mode)', () => {
  it('moves every live lease on by it: the renewal after it is taken, and the run goes on', async () => {
    const opened = h.clock.now();
    const { leaseId, runId } = await leaseAndClaim();
    await ranFor(5000);
    h.clock.advance(45_000); // past the 30 s lease
    await h.pull.grace.present();
    // Its expiry, 45 s later than its opening gave it.
    expect(
      await h.store.sqlite.get('SELECT expires_at FROM worker_leases WHERE id = ?', [leaseId]),
    ).toEqual({ expires_at: opened + 30_000 + 45_000 });
    const renewed = await renew(leaseId);
    expect(renewed.status, renewed.text).toBe(200);
    expect((renewed.body as { expires_at: number }).expires_at).toBe(h.clock.now() + 30_000);
    await h.pull.tick();
    expect(await h.store.getRun(runId)).toMatchObject({ state: 'running' });
  });

  it('counts a suspend (the wall clock jumps alone) the same, first seen by the tick', async () => {
    const { leaseId, runId } = await leaseAndClaim();
    h.clock.jumpWall(3_600_000);
    await h.pull.tick();
    expect(await h.store.getRun(runId)).toMatchObject({ state: 'running' });
    expect((await renew(leaseId)).status).toBe(200);
  });

  it('does not count time in which serve ran: a lease nobody renewed lapses as before', async () => {
    const { leaseId, runId } = await leaseAndClaim();
    await ranFor(31_000);
    expectError(await renew(leaseId), 409, 'stale_run', /lapsed/);
    await h.pull.tick();
    expect(await h.store.getRun(runId)).toMatchObject({ state: 'ended', outcome: 'lease_lost' });
  });

  it('leaves a lease that had lapsed before the absence lapsed', async () => {
    const { leaseId, runId } = await leaseAndClaim();
    await ranFor(31_000);
    h.clock.advance(60_000);
    expectError(await renew(leaseId), 409, 'stale_run', /lapsed/);
    await h.pull.tick();
    expect(await h.store.getRun(runId)).toMatchObject({ state: 'ended', outcome: 'lease_lost' });
  });

  it('leaves the absence out of a pull run’s silence: it stalls only once silent that long while serve ran', async () => {
    const { leaseId, runId } = await leaseAndClaim();
    const keepLease = async (ms: number): Promise<void> => {
      await ranFor(ms);
      expect((await renew(leaseId)).status).toBe(200);
    };
    await keepLease(8000);
    h.clock.advance(120_000); // six stall timeouts, with serve away
    await h.pull.tick();
    expect(await h.store.getRun(runId)).toMatchObject({ state: 'running' });
    await keepLease(8000);
    await h.pull.tick();
    // 16 s of silence while serve ran: warned (10 s), not stalled (20 s).
    expect((await h.store.getRun(runId)).stall_warned_at).not.toBeNull();
    expect(await h.store.getRun(runId)).toMatchObject({ state: 'running' });
    await keepLease(5000);
    await h.pull.tick();
    expect((await h.store.getRun(runId)).outcome).toBe('stalled');
  });
});

/** What the PostgreSQL driver throws while its server is down. */
function refused(): Error {
  return Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
}

// A store that could not be reached (PostgreSQL down): no worker could renew through any serve,
// so once it answers every open lease gets a TTL before any is read. The outage is the store's
// grace write failing as it would; every other query answers, as the store can the very next one.
describe('a store that could not be reached (pull mode)', () => {
  beforeEach(async () => {
    // Silence is not what is tested here: only the lease may end a run.
    await h.store.editProfile(
      'agent',
      { policy: { stall_warn_after: 600_000, stall_timeout: 1_200_000 } },
      ana,
    );
  });

  it('lets no lease be read until every lease has had its TTL: requests get 503 meanwhile', async () => {
    const { leaseId, runId } = await leaseAndClaim();
    let away = true;
    const grace = h.store.graceLeases.bind(h.store);
    vi.spyOn(h.store, 'graceLeases').mockImplementation((ttl) =>
      away ? Promise.reject(refused()) : grace(ttl),
    );
    h.pull.grace.storeFailed(refused()); // as the tick does when a query finds it down
    for (let left = 45_000; left > 0; left -= 250) {
      h.clock.advance(250);
      await h.pull.grace.present()?.catch(() => undefined);
    }
    // Past the 30 s lease: were it read now, it would be taken as lapsed.
    const refusedRenewal = await renew(leaseId);
    expect(refusedRenewal.status).toBe(503);
    expect(refusedRenewal.body).toMatchObject({
      error: {
        code: 'unavailable',
        message: expect.stringMatching(/store does not answer.*ECONNREFUSED.*try again/) as unknown,
      },
    });
    await expect(h.pull.tick()).rejects.toMatchObject({ code: 'unavailable' });
    expect(await h.store.getRun(runId)).toMatchObject({ state: 'running' });

    away = false;
    const renewed = await renew(leaseId);
    expect(renewed.status, renewed.text).toBe(200);
    expect((renewed.body as { expires_at: number }).expires_at).toBe(h.clock.now() + 30_000);
    await h.pull.tick();
    expect(await h.store.getRun(runId)).toMatchObject({ state: 'running' });
  });

  it('is seen by a pull request as well as by the tick', async () => {
    const { leaseId, runId } = await leaseAndClaim();
    await ranFor(20_000);
    vi.spyOn(h.store, 'checkLease').mockRejectedValueOnce(refused());
    expect((await renew(leaseId)).status).toBe(500);
    await ranFor(20_000);
    // 40 s after its opening, the lease lives: the beat after the failure gave it a TTL.
    expect((await renew(leaseId)).status).toBe(200);
    await h.pull.tick();
    expect(await h.store.getRun(runId)).toMatchObject({ state: 'running' });
  });

  it('gives nothing for a failure with the store there (a bug must not keep leases alive)', async () => {
    const { leaseId, runId } = await leaseAndClaim();
    await ranFor(20_000);
    vi.spyOn(h.store, 'checkLease').mockRejectedValueOnce(new Error('a bug'));
    expect((await renew(leaseId)).status).toBe(500);
    await ranFor(20_000);
    expectError(await renew(leaseId), 409, 'stale_run', /lapsed/);
    await h.pull.tick();
    expect(await h.store.getRun(runId)).toMatchObject({ state: 'ended', outcome: 'lease_lost' });
  });

  it('lets the leases be read when the grace fails with the store there: no 503 for ever', async () => {
    const { leaseId, runId } = await leaseAndClaim();
    const grace = vi.spyOn(h.store, 'graceLeases').mockRejectedValueOnce(new Error('read-only'));
    h.pull.grace.storeFailed(refused());
    await ranFor(1000);
    expect(grace).toHaveBeenCalledTimes(1);
    expect((await renew(leaseId)).status).toBe(200);
    await h.pull.tick();
    expect(await h.store.getRun(runId)).toMatchObject({ state: 'running' });
  });
});
