/** A line a test fixture wrote about its own life: `start|stop <task> <run> <pid> <epoch-ms>`. */
export interface LifeLine {
  event: string;
  task: number;
  run: number;
  pid: number;
  at: number;
}

/**
 * Each run's time alive, from its start line to its own stop line, sorted by start. A run with no
 * stop line (its worker was killed, or its handler threw) ends at `endOf(run)`, when the store
 * ended it. A stop is matched by run, not by process: one pull worker runs many runs.
 */
export function lifeSpans(
  lines: readonly LifeLine[],
  endOf: (runId: number) => number,
): [number, number][] {
  return lines
    .filter((l) => l.event === 'start')
    .map((s): [number, number] => [
      s.at,
      lines.find((l) => l.event === 'stop' && l.run === s.run)?.at ?? endOf(s.run),
    ])
    .sort((a, b) => a[0] - b[0]);
}

/** The first two spans that overlap, or null. */
export function firstOverlap(
  spans: readonly [number, number][],
): [[number, number], [number, number]] | null {
  for (let i = 1; i < spans.length; i++) {
    const before = spans[i - 1];
    const after = spans[i];
    if (before && after && before[1] > after[0]) return [before, after];
  }
  return null;
}
