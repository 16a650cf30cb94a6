/**
 * A lease's last claim answer, kept for a retry of the same claim (issue #16): the same id
 * gets the same answer, even while the first is still under way; a new id claims again; a
 * failed answer is not kept; answers go after ten minutes or when their lease closes; a claim
 * of a lease with no answer kept is told so (it looks for its runs in the store).
 */
import { describe, expect, it } from 'vitest';
import { ClaimAnswers } from '../../src/api/claim-answers.js';

function counter(): { claim: () => Promise<number>; calls: () => number } {
  let n = 0;
  return { claim: () => Promise.resolve(++n), calls: () => n };
}

describe('claim answers kept for a retry', () => {
  it('answers a retry of the same claim with the first answer, and a new claim anew', async () => {
    const kept = new ClaimAnswers<number>();
    const c = counter();
    expect(await kept.answer('lease_a', 'one', c.claim)).toBe(1);
    expect(await kept.answer('lease_a', 'one', c.claim)).toBe(1);
    expect(await kept.answer('lease_b', 'one', c.claim)).toBe(2);
    expect(await kept.answer('lease_a', 'two', c.claim)).toBe(3);
    // Only a lease's last claim is kept.
    expect(await kept.answer('lease_a', 'one', c.claim)).toBe(4);
    expect(c.calls()).toBe(4);
  });

  it('tells a claim whether its lease’s last claim is known here, so an unknown one looks in the store', async () => {
    const kept = new ClaimAnswers<boolean>();
    const told = (known: boolean): Promise<boolean> => Promise.resolve(known);
    // A lease this serve has not seen claim (it restarted, or the lease claimed elsewhere).
    expect(await kept.answer('lease_a', 'one', told)).toBe(false);
    // Its next claim: the last one is known, so a new id is a new claim, not a lost answer.
    expect(await kept.answer('lease_a', 'two', told)).toBe(true);
    expect(await kept.answer('lease_b', 'one', told)).toBe(false);
    kept.forget('lease_a');
    expect(await kept.answer('lease_a', 'three', told)).toBe(false);
  });

  it('gives a retry that arrives while the first is under way the same answer', async () => {
    const kept = new ClaimAnswers<string>();
    let finish: (v: string) => void = () => undefined;
    let calls = 0;
    const slow = (): Promise<string> => {
      calls++;
      return new Promise((resolve) => (finish = resolve));
    };
    const first = kept.answer('lease_a', 'one', slow);
    const retry = kept.answer('lease_a', 'one', slow);
    finish('runs 7 and 8');
    expect(await Promise.all([first, retry])).toEqual(['runs 7 and 8', 'runs 7 and 8']);
    expect(calls).toBe(1);
  });

  it('keeps no failed answer, so its retry claims again', async () => {
    const kept = new ClaimAnswers<number>();
    await expect(
      kept.answer('lease_a', 'one', () => Promise.reject(new Error('busy'))),
    ).rejects.toThrow('busy');
    expect(kept.size).toBe(0);
    expect(await kept.answer('lease_a', 'one', () => Promise.resolve(5))).toBe(5);
  });

  it('drops answers after ten minutes and when their lease closes', async () => {
    let now = 0;
    const kept = new ClaimAnswers<number>(() => now);
    const c = counter();
    await kept.answer('lease_a', 'one', c.claim);
    now = 5 * 60_000;
    await kept.answer('lease_b', 'one', c.claim);
    now = 10 * 60_000 + 1;
    await kept.answer('lease_c', 'one', c.claim);
    expect(kept.size).toBe(2);
    expect(await kept.answer('lease_a', 'one', c.claim)).toBe(4);
    kept.forget('lease_b');
    expect(await kept.answer('lease_b', 'one', c.claim)).toBe(5);
  });
});
