/**
 * `--llm-max-concurrency`: at most N requests in flight to one upstream from this host; the
 * rest wait their turn, first come first served across runs. The cap is read at each request,
 * so an edit of the profile applies to the next one.
 */
export class UpstreamLimiter {
  private readonly lanes = new Map<string, { active: number; waiting: (() => void)[] }>();

  /**
   * A slot of `upstream`: its release at once when one is free (always when `max` is null),
   * else a promise of it once one is. `queued` is called when the request has to wait.
   * `cancelled` gives the slot up if it settles first (the agent hung up while waiting): the
   * promise resolves with null then.
   */
  acquire(
    upstream: string,
    max: number | null,
    queued: () => void,
    cancelled: Promise<void>,
  ): (() => void) | Promise<(() => void) | null> {
    let lane = this.lanes.get(upstream);
    if (!lane) {
      lane = { active: 0, waiting: [] };
      this.lanes.set(upstream, lane);
    }
    const l = lane;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      l.active -= 1;
      this.next(upstream, l, max);
    };
    if (max === null || (l.active < max && l.waiting.length === 0)) {
      l.active += 1;
      // Not wrapped in a promise: awaiting one costs a request a turn of the microtask queue.
      return release;
    }
    queued();
    return new Promise((resolve) => {
      let done = false;
      const turn = (): void => {
        if (done) return;
        done = true;
        l.active += 1;
        resolve(release);
      };
      l.waiting.push(turn);
      void cancelled.then(() => {
        if (done) return;
        done = true;
        l.waiting.splice(l.waiting.indexOf(turn), 1);
        resolve(null);
      });
    });
  }

  /** Requests in flight and waiting for `upstream`. */
  load(upstream: string): { active: number; waiting: number } {
    const lane = this.lanes.get(upstream);
    return { active: lane?.active ?? 0, waiting: lane?.waiting.length ?? 0 };
  }

  private next(
    upstream: string,
    lane: { active: number; waiting: (() => void)[] },
    max: number | null,
  ): void {
    while (lane.waiting.length > 0 && (max === null || lane.active < max)) {
      lane.waiting.shift()?.();
    }
    if (lane.active === 0 && lane.waiting.length === 0) this.lanes.delete(upstream);
  }
}
