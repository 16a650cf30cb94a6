import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { machine } from './machine.js';
import type { Row } from './stats.js';
import { table } from './stats.js';

export const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));

/** What one benchmark script found. */
export interface BenchResult {
  name: string;
  title: string;
  started_at: string;
  duration_s: number;
  /** How the latency was measured, in a sentence or two. */
  method: string;
  rows: Row[];
  /** Supporting measurements (floors, stages), reported without a target. */
  notes: Row[];
  samples: unknown[];
}

/** What `report` adds: how busy the machine was as the benchmark ended. */
export interface StoredResult extends BenchResult {
  load_average: string;
}

/** Prints the result and writes `bench/results/NAME.json`. */
export function report(result: BenchResult): void {
  // A variant run with no samples (e.g. `--api-samples 0`) has no row.
  const stored: StoredResult = {
    ...result,
    rows: result.rows.filter((r) => r.summary.n > 0),
    notes: result.notes.filter((r) => r.summary.n > 0),
    load_average: machine().load_average ?? '',
  };
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, `${result.name}.json`), JSON.stringify(stored, null, 2) + '\n');
  process.stdout.write(`\n## ${result.title}\n\n${result.method}\n\n${table(stored.rows)}\n`);
  if (stored.notes.length > 0)
    process.stdout.write(`\nStages and floors:\n\n${table(stored.notes)}\n`);
  process.stdout.write(
    `\n(${result.duration_s.toFixed(0)} s, load average at the end ${stored.load_average}; raw ` +
      `samples in bench/results/${result.name}.json)\n`,
  );
}
