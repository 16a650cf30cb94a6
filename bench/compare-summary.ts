/**
 * Prints the rows of two builds' benchmark results side by side (bench/compare.sh): for each
 * row, the median of its per-round medians, and their spread (lowest–highest).
 *
 *   node bench/compare-summary.ts DIR "base LABEL" "head LABEL"
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface Stored {
  name: string;
  rows: { label: string; summary: { n: number; p50: number; p99: number } }[];
}

const [dir = 'bench/results/compare', baseName = 'base', headName = 'head'] = process.argv.slice(2);

/** label → row → medians per round. */
const found = new Map<string, Map<string, number[]>>();
for (const file of readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort()) {
  const [build = ''] = file.split('.');
  const stored = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Stored;
  for (const row of stored.rows) {
    const key = `${stored.name}: ${row.label}`;
    const rows = found.get(key) ?? new Map<string, number[]>();
    rows.set(build, [...(rows.get(build) ?? []), row.summary.p50]);
    found.set(key, rows);
  }
}

function middle(values: readonly number[]): string {
  if (values.length === 0) return '—';
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN;
  return `${mid.toFixed(1)} (${(sorted[0] ?? 0).toFixed(1)}–${(sorted.at(-1) ?? 0).toFixed(1)})`;
}

const lines = [
  `| row (median of the per-round medians, ms; spread) | ${baseName} | ${headName} |`,
  '|---|--:|--:|',
];
for (const [key, rows] of found) {
  lines.push(`| ${key} | ${middle(rows.get('base') ?? [])} | ${middle(rows.get('head') ?? [])} |`);
}
process.stdout.write(`${lines.join('\n')}\n`);
