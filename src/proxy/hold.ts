import type { IncomingMessage, ServerResponse } from 'node:http';
import type { UsageTap } from './usage.js';

/**
 * Most of a "slow down" answer held back: a rate limit's answer is a few hundred bytes; past
 * this (a gateway's whole page) it streams as it comes, as any other answer.
 */
export const HOLD_MAX_BYTES = 64 * 1024;

/** Longest a held answer waits for its count: a store that stalls must not keep it back. */
export const HOLD_MAX_MS = 5_000;

/** Why a record says an upstream answer stopped short. */
export function brokeOff(err: Error): string {
  return `the upstream's answer broke off: ${err.message}`;
}

/** Passes a chunk of `answer` on to `res`, pausing the upstream while `res` is full. */
export function pass(answer: IncomingMessage, res: ServerResponse, chunk: Buffer): void {
  if (!res.write(chunk)) {
    answer.pause();
    res.once('drain', () => answer.resume());
  }
}

/** What a held answer tells the proxy, and what it passes on. */
export interface Hold {
  /** The headers to pass on with the answer. */
  headers: Record<string, string | string[]>;
  /** A chunk came from the upstream (the run is working). */
  chunk(): void;
  /**
   * Records the request, which ends the run when it is one too many (resolved once the
   * ending is decided); `error` when the answer broke off.
   */
  count(error: string | null): Promise<void>;
}

/** `recorded`, or the end of `HOLD_MAX_MS`, whichever comes first. */
function atMostHoldMax(recorded: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const waited = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, HOLD_MAX_MS);
  });
  return Promise.race([recorded, waited]).finally(() => clearTimeout(timer));
}

/**
 * Passes on an upstream's "slow down" answer only once it is counted, so a run that it takes
 * past its limit ends `rate_limited` before its agent can read the answer and quit on it
 * (which would otherwise be judged a crash and retried into the same limits). Held whole up
 * to `HOLD_MAX_BYTES`, for at most `HOLD_MAX_MS`; an answer that breaks off is counted before
 * the agent's connection is cut.
 */
export function holdUntilCounted(
  answer: IncomingMessage,
  res: ServerResponse,
  tap: UsageTap,
  hold: Hold,
): void {
  const held: Buffer[] = [];
  let size = 0;
  let streaming = false;
  const head = (): void => {
    if (!res.headersSent)
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, hold.headers);
  };
  answer.on('data', (chunk: Buffer) => {
    hold.chunk();
    tap.feed(chunk);
    if (streaming) return pass(answer, res, chunk);
    held.push(chunk);
    size += chunk.length;
    if (size <= HOLD_MAX_BYTES) return;
    // Too long to be a rate limit's answer: passed on as it comes, counted at its end.
    streaming = true;
    head();
    for (const c of held.splice(0)) pass(answer, res, c);
  });
  answer.on('end', () => {
    tap.end();
    if (streaming) {
      res.end();
      void hold.count(null);
      return;
    }
    void atMostHoldMax(hold.count(null)).then(() => {
      if (res.destroyed || res.headersSent) return;
      head();
      res.end(Buffer.concat(held));
    });
  });
  answer.on('error', (err) => {
    tap.end();
    void atMostHoldMax(hold.count(brokeOff(err))).then(() => res.destroy());
  });
}
