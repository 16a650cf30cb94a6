import { describe, expect, it } from 'vitest';
import { UpstreamLimiter } from '../../src/proxy/limiter.js';

const never = new Promise<void>(() => undefined);

describe('the upstream limiter', () => {
  it('lets N through, queues the rest first come first served, and frees slots on release', async () => {
    const limiter = new UpstreamLimiter();
    const order: number[] = [];
    let queued = 0;
    const take = (n: number): Promise<() => void> =>
      Promise.resolve(limiter.acquire('u', 2, () => (queued += 1), never)).then((release) => {
        order.push(n);
        if (release === null) throw new Error('cancelled');
        return release;
      });
    const a = await take(1);
    const b = await take(2);
    const waiting = [take(3), take(4), take(5)];
    expect(queued).toBe(3);
    expect(limiter.load('u')).toEqual({ active: 2, waiting: 3 });
    a();
    const c = await waiting[0];
    expect(order).toEqual([1, 2, 3]);
    b();
    c?.();
    // Releasing twice frees one slot, not two.
    c?.();
    await Promise.all([waiting[1], waiting[2]]);
    expect(order).toEqual([1, 2, 3, 4, 5]);
    expect(limiter.load('u')).toEqual({ active: 2, waiting: 0 });
  });

  it('keeps upstreams apart, and no cap means no queue', async () => {
    const limiter = new UpstreamLimiter();
    await limiter.acquire('a', 1, () => undefined, never);
    let queued = false;
    await limiter.acquire('b', 1, () => (queued = true), never);
    for (let i = 0; i < 5; i++) await limiter.acquire('c', null, () => (queued = true), never);
    expect(queued).toBe(false);
  });

  it('a waiter that hangs up gives its place away', async () => {
    const limiter = new UpstreamLimiter();
    const first = await limiter.acquire('u', 1, () => undefined, never);
    let hangUp: () => void = () => undefined;
    const gone = new Promise<void>((resolve) => (hangUp = resolve));
    const cancelled = limiter.acquire('u', 1, () => undefined, gone);
    const next = limiter.acquire('u', 1, () => undefined, never);
    hangUp();
    expect(await cancelled).toBeNull();
    first?.();
    expect(await next).toBeTypeOf('function');
  });
});
