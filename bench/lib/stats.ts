/** Order statistics of a sample, in milliseconds. */
export interface Summary {
  n: number;
  min: number;
  p25: number;
  p50: number;
  p75: number;
  p99: number;
  max: number;
  mean: number;
}

/** The nearest-rank percentile of sorted values: the smallest value ≥ p % of the sample. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] ?? Number.NaN;
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    n: sorted.length,
    min: sorted[0] ?? Number.NaN,
    p25: percentile(sorted, 25),
    p50: percentile(sorted, 50),
    p75: percentile(sorted, 75),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
    mean: sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length),
  };
}

/** Milliseconds with one decimal. */
export function ms(value: number): string {
  return Number.isFinite(value) ? value.toFixed(1) : '-';
}

/** A target on p50 and/or p99, in milliseconds. */
export interface Target {
  p50?: number;
  p99?: number;
}

/** One row of a results table. */
export interface Row {
  label: string;
  summary: Summary;
  target?: Target;
}

/** Whether a summary meets its target (null when there is none). */
export function meets(summary: Summary, target: Target | undefined): boolean | null {
  if (target === undefined) return null;
  return (
    (target.p50 === undefined || summary.p50 < target.p50) &&
    (target.p99 === undefined || summary.p99 < target.p99)
  );
}

function targetText(target: Target | undefined): string {
  if (target === undefined) return '';
  const parts: string[] = [];
  if (target.p50 !== undefined) parts.push(`p50 < ${target.p50}`);
  if (target.p99 !== undefined) parts.push(`p99 < ${target.p99}`);
  return parts.join(', ');
}

/** A Markdown table of the rows (milliseconds). */
export function table(rows: readonly Row[]): string {
  const head =
    '| measure | n | median | p99 | min | p25 | p75 | max | target | met |\n' +
    '|---|--:|--:|--:|--:|--:|--:|--:|---|---|';
  const lines = rows.map((r) => {
    const s = r.summary;
    const ok = meets(s, r.target);
    return `| ${r.label} | ${s.n} | ${ms(s.p50)} | ${ms(s.p99)} | ${ms(s.min)} | ${ms(s.p25)} | ${ms(s.p75)} | ${ms(s.max)} | ${targetText(r.target)} | ${ok === null ? '' : ok ? 'yes' : '**no**'} |`;
  });
  return [head, ...lines].join('\n');
}
