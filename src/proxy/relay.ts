import type { IncomingMessage, ServerResponse } from 'node:http';
import { atMost } from '../os/at-most.js';
import type { UsageTap } from './usage.js';

/**
 * Most of a "slow down" answer held back: a rate limit's answer is a few hundred bytes; past
 * this (a gateway's whole page) it streams as it comes, as any other answer.
 */
export const HOLD_MAX_BYTES = 64 * 1024;

/** Longest a held answer waits for its count: a store that stalls must not keep it back. */
export const HOLD_MAX_MS = 5_000;

/** Why a record says an upstream answer stopped short. */
function brokeOff(err: Error): string {
  return `the upstream's answer broke off: ${err.message}`;
}

/** How an upstream's answer is passed on, and what the proxy learns from it. */
export interface Relay {
  /** The headers to pass on with the answer. */
  headers: Record<string, string | string[]>;
  /**
   * Hold the answer until it is counted (a "slow down"), rather than stream it as it comes;
   * up to `HOLD_MAX_BYTES`, past which it streams.
   */
  hold: boolean;
  /** A chunk came from the upstream (the run is working). */
  chunk(): void;
  /**
   * Records the request, which may end the run (resolved once the ending is decided);
   * `error` when the answer broke off.
   */
  count(error: string | null): Promise<void>;
}

/**
 * Passes an upstream's answer on to the agent and counts it once it ends. Streamed, it goes
 * chunk by chunk as it arrives, the upstream paused while the agent's side is full, and is
 * counted at its end. Held (`Relay.hold`, an upstream's "slow down"), it is passed on only
 * once counted, so a run that it takes past its limit ends `rate_limited` before its agent can
 * read the answer and quit on it (which would otherwise be judged a crash and retried into the
 * same limits); held whole up to `HOLD_MAX_BYTES`, for at most `HOLD_MAX_MS`. An answer that
 * breaks off cuts the agent's connection: a streamed one at once, a held one once counted.
 * `tap` reads every chunk for the usage the answer reports.
 */
export function relay(
  answer: IncomingMessage,
  res: ServerResponse,
  tap: UsageTap,
  how: Relay,
): void {
  const held: Buffer[] = [];
  let size = 0;
  let streaming = !how.hold;
  const pass = (chunk: Buffer): void => {
    if (!res.write(chunk)) {
      answer.pause();
      res.once('drain', () => answer.resume());
    }
  };
  const head = (): void => {
    if (!res.headersSent)
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, how.headers);
  };
  if (streaming) {
    head();
    res.flushHeaders();
  }
  answer.on('data', (chunk: Buffer) => {
    how.chunk();
    tap.feed(chunk);
    if (streaming) return pass(chunk);
    held.push(chunk);
    size += chunk.length;
    if (size <= HOLD_MAX_BYTES) return;
    // Too long to be a rate limit's answer: passed on as it comes, counted at its end.
    streaming = true;
    head();
    for (const c of held.splice(0)) pass(c);
  });
  answer.on('end', () => {
    if (streaming) {
      // The agent's answer ends before its usage is read: a whole JSON body takes a while.
      res.end();
      tap.end();
      void how.count(null);
      return;
    }
    tap.end();
    void atMost(how.count(null), HOLD_MAX_MS).then(() => {
      if (res.destroyed || res.headersSent) return;
      head();
      res.end(Buffer.concat(held));
    });
  });
  answer.on('error', (err) => {
    if (streaming) res.destroy();
    tap.end();
    const counted = how.count(brokeOff(err));
    if (!streaming) void atMost(counted, HOLD_MAX_MS).then(() => res.destroy());
  });
}
