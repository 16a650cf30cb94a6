/**
 * What `peers-throughput` asks of each job queue it measures: a fresh queue holding the no-op
 * jobs, workers started on demand, the store's own count of completed jobs, and a clean-up
 * that leaves nothing behind on the shared PostgreSQL or Redis server.
 */
import { readFileSync } from 'node:fs';

/** What a round's workers report back to the benchmark. */
export interface Hooks {
  /** Called by the no-op handler, the only thing it does before it returns. */
  handled(): void;
  /** Called with any error the library reports (a failed job, a lost connection). */
  failed(err: unknown): void;
}

/** One round: a fresh queue with every job enqueued and no worker running yet. */
export interface Round {
  /** The durability in force, read from the server and the library's tables or settings. */
  readonly durability: string;
  /** Starts the workers; resolves with the `performance.now()` of their first fetch. */
  start(): Promise<number>;
  /** How many jobs the store records as completed. */
  completed(): Promise<number>;
  /** Stops the workers and removes the queue (schema or keys). Safe to call more than once. */
  close(): Promise<void>;
}

/** A job queue library under test. */
export interface Peer {
  /** The library and its installed version, e.g. `pg-boss 12.38.0`. */
  readonly name: string;
  /** What `concurrency` means for this library, for the output. */
  workers(concurrency: number): string;
  /** Sets up a fresh queue holding `tasks` no-op jobs, with workers not yet started. */
  prepare(tasks: number, concurrency: number, hooks: Hooks): Promise<Round>;
}

/** The version of an installed package (read from its `package.json`, which some don't export). */
export function packageVersion(name: string): string {
  const url = new URL(`../../node_modules/${name}/package.json`, import.meta.url);
  return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
}

let made = 0;

/** A name no earlier or concurrent run uses: lower case, digits and `_` (a valid identifier). */
export function uniqueName(prefix: string): string {
  made++;
  return `warden_bench_${prefix}_${process.pid}_${Date.now().toString(36)}_${made}`;
}

/**
 * Runs every clean-up step even when an earlier one fails (a schema is dropped even if the
 * library would not stop), then throws the first failure.
 */
export async function runAll(steps: readonly (() => Promise<unknown>)[]): Promise<void> {
  let first: { err: unknown } | null = null;
  for (const step of steps) {
    try {
      await step();
    } catch (err) {
      first ??= { err };
    }
  }
  if (first) throw first.err;
}
