import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { machine } from './machine.js';
import { RESULTS_DIR } from './results.js';
import type { StoredResult } from './results.js';
import { table } from './stats.js';

/** Prints the machine and every headline row of the named benchmarks' last results. */
export function printSummary(names: readonly string[]): void {
  const m = machine();
  const lines = [
    '\n# warden benchmarks\n',
    ...Object.entries(m).map(([k, v]) => `- ${k}: ${v}`),
    `- date: ${new Date().toISOString()}`,
  ];
  for (const name of names) {
    const path = join(RESULTS_DIR, `${name}.json`);
    if (!existsSync(path)) {
      lines.push(`\n## ${name}\n\n(no result: the benchmark failed)`);
      continue;
    }
    const r = JSON.parse(readFileSync(path, 'utf8')) as StoredResult;
    lines.push(
      `\n## ${r.title}\n\n${r.name}: ${r.duration_s.toFixed(0)} s, load average at the end ${r.load_average}\n`,
      table(r.rows),
    );
  }
  process.stdout.write(lines.join('\n') + '\n');
}
