/**
 * Reading the counts that `lib/count-statements.ts`, preloaded into a `serve`, keeps of the
 * statements it sends its store (that file patches the drivers when imported, so what the
 * benchmarks themselves use lives here).
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Serve } from './home.js';
import { waitFor } from './time.js';

/** Statements by kind (`SELECT tasks`, `COMMIT`, ...). */
export type Counts = Record<string, number>;

/** Asks `serve` for its counts (SIGUSR2) and waits for snapshot number `seq` in `file`. */
export async function statementCounts(serve: Serve, file: string, seq: number): Promise<Counts> {
  serve.proc.kill('SIGUSR2');
  return waitFor(`statement counts #${seq}`, () => {
    if (!existsSync(file)) return undefined;
    const body = JSON.parse(readFileSync(file, 'utf8')) as { snapshots: number; counts: Counts };
    return body.snapshots >= seq ? body.counts : undefined;
  });
}

/** The counts of `after` less those of `before`, kinds that did not change left out. */
export function minus(after: Counts, before: Counts): Counts {
  const out: Counts = {};
  for (const [k, v] of Object.entries(after)) {
    const d = v - (before[k] ?? 0);
    if (d !== 0) out[k] = d;
  }
  return out;
}
