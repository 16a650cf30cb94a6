import { describe, expect, it } from 'vitest';
import type { WorkTurn } from '../../src/api/pull-routes.js';
import { ClaimWaiters } from '../../src/serve/claim-waiters.js';

/** A poll waiting on `w`: what it was woken with, once it was. */
function poll(w: ClaimWaiters, profiles: string[], ms = 60_000) {
  const seen: { turn: WorkTurn | null; woken: boolean } = { turn: null, woken: false };
  const done = w.wait(ms, profiles).then((turn) => {
    seen.turn = turn;
    seen.woken = true;
  });
  return { seen, done };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('pull long-polls woken one at a time', () => {
  it('wakes the longest-waiting poll, and the next only while polls find work', async () => {
    const w = new ClaimWaiters();
    const [a, b, c] = [poll(w, ['x']), poll(w, ['x']), poll(w, ['x'])];
    w.changed();
    await settle();
    expect([a, b, c].map((p) => p.seen.woken)).toEqual([true, false, false]);
    a.seen.turn?.done(true); // found work: more may be ready
    await settle();
    expect([b, c].map((p) => p.seen.woken)).toEqual([true, false]);
    b.seen.turn?.done(false); // found none: no other profiles wait, the round ends
    await settle();
    expect(c.seen.woken).toBe(false);
    expect(w.size).toBe(1);
    w.releaseAll();
    await c.done;
    expect(c.seen.turn).toBeNull();
  });

  it('hands an empty look to a poll serving other profiles, once per set of profiles', async () => {
    const w = new ClaimWaiters();
    const [x1, x2, y, xy] = [poll(w, ['x']), poll(w, ['x']), poll(w, ['y']), poll(w, ['y', 'x'])];
    w.changed();
    await settle();
    x1.seen.turn?.done(false);
    await settle();
    expect([x2, y, xy].map((p) => p.seen.woken)).toEqual([false, true, false]);
    y.seen.turn?.done(false);
    await settle();
    expect([x2, xy].map((p) => p.seen.woken)).toEqual([false, true]);
    xy.seen.turn?.done(false);
    await settle();
    expect(x2.seen.woken).toBe(false);
    w.releaseAll();
  });

  it('starts another round for a change that came during one, and gives up a stuck turn', async () => {
    const w = new ClaimWaiters(0);
    const [a, b] = [poll(w, ['x']), poll(w, ['x'])];
    w.changed();
    await settle();
    expect(a.seen.woken).toBe(true);
    // a's turn is held past the (zero) limit: the next change passes it by.
    await new Promise((r) => setTimeout(r, 5));
    w.changed();
    await settle();
    expect(b.seen.woken).toBe(true);
    a.seen.turn?.done(false); // late, from a turn given up on: changes nothing
    const c = poll(w, ['x']);
    b.seen.turn?.done(false);
    await settle();
    expect(c.seen.woken).toBe(false);

    const patient = new ClaimWaiters();
    const [p, q] = [poll(patient, ['x']), poll(patient, ['x'])];
    patient.changed();
    await settle();
    patient.changed(); // during the round
    p.seen.turn?.done(false);
    await settle();
    expect(q.seen.woken).toBe(true);
    q.seen.turn?.done(false);
    w.releaseAll();
    patient.releaseAll();
  });

  it('resolves a poll with no turn when its time runs out, and forgets it', async () => {
    const w = new ClaimWaiters();
    const p = poll(w, ['x'], 10);
    await p.done;
    expect(p.seen.turn).toBeNull();
    expect(w.size).toBe(0);
    w.changed(); // nobody waits: the round ends at once
    const q = poll(w, ['x']);
    w.changed();
    await settle();
    expect(q.seen.woken).toBe(true);
    q.seen.turn?.done(false);
  });
});
