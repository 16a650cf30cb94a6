/*
 * `/metrics` of a real `warden serve` (issue #15), scraped and parsed as Prometheus' text
 * format: every family has the type and the label names it promises, histograms are whole
 * (cumulative buckets, `+Inf` equal to the count), and the figures move when tasks run: the
 * store's (tasks, endings, workers) and this host's own (dispatch and detection latency, stall
 * warnings, store operations).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { TestHome, fixture, waitFor } from '../helpers/host.js';
import { parsePromText, sampleValue } from '../helpers/prom-text.js';
import type { Family, MetricType } from '../helpers/prom-text.js';

let home: TestHome | undefined;
afterEach(async () => {
  await home?.cleanup();
  home = undefined;
});

/** Each family this build promises: its type and the label names of its samples. */
const PROMISED: Record<string, { type: MetricType; labels: string[] }> = {
  warden_tasks: { type: 'gauge', labels: ['board', 'status'] },
  warden_runs: { type: 'gauge', labels: ['board', 'state'] },
  warden_runs_ended: { type: 'gauge', labels: ['board', 'outcome'] },
  warden_workers: { type: 'gauge', labels: ['board', 'host', 'mode', 'profile', 'state'] },
  warden_llm_requests: { type: 'gauge', labels: ['board', 'profile'] },
  warden_llm_tokens: { type: 'gauge', labels: ['board', 'kind', 'profile'] },
  warden_llm_cost_usd: { type: 'gauge', labels: ['board', 'profile'] },
  warden_profile_paused: { type: 'gauge', labels: ['by', 'profile'] },
  warden_breaker_trips: { type: 'gauge', labels: ['profile'] },
  warden_host_workers: { type: 'gauge', labels: [] },
  warden_host_dispatching: { type: 'gauge', labels: [] },
  warden_dispatch_latency_seconds: { type: 'histogram', labels: ['le', 'profile'] },
  warden_detection_latency_seconds: { type: 'histogram', labels: ['le', 'outcome'] },
  warden_stall_warnings_total: { type: 'counter', labels: [] },
  warden_store_operation_seconds: { type: 'histogram', labels: ['le', 'operation'] },
};

async function scrape(url: string): Promise<Map<string, Family>> {
  const res = await fetch(`${url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePromText(await res.text());
}

/** Types, label names and whole histograms, for every promised family of a scrape. */
function checkShape(families: Map<string, Family>): void {
  for (const [name, want] of Object.entries(PROMISED)) {
    const f = families.get(name);
    expect(f, name).toBeDefined();
    expect(f?.type, name).toBe(want.type);
    expect(f?.help, name).not.toBe('');
    for (const s of f?.samples ?? []) {
      const keys = Object.keys(s.labels).sort();
      const expected = s.name.endsWith('_bucket')
        ? want.labels
        : want.labels.filter((l) => l !== 'le');
      expect(keys, `${s.name} ${JSON.stringify(s.labels)}`).toEqual(expected);
      expect(Number.isNaN(s.value), s.name).toBe(false);
    }
    if (want.type !== 'histogram') continue;
    // Per label set: buckets never fall, and +Inf holds the count.
    const series = new Map<string, { le: number; value: number }[]>();
    const counts = new Map<string, number>();
    for (const s of f?.samples ?? []) {
      const { le, ...rest } = s.labels;
      const key = JSON.stringify(rest);
      if (s.name.endsWith('_bucket'))
        series.set(key, [
          ...(series.get(key) ?? []),
          { le: le === '+Inf' ? Infinity : Number(le), value: s.value },
        ]);
      if (s.name.endsWith('_count')) counts.set(key, s.value);
    }
    for (const [key, buckets] of series) {
      const sorted = [...buckets].sort((a, b) => a.le - b.le);
      for (let i = 1; i < sorted.length; i++)
        expect(sorted[i]?.value, `${name} ${key}`).toBeGreaterThanOrEqual(
          sorted[i - 1]?.value ?? 0,
        );
      expect(sorted.at(-1)?.le).toBe(Infinity);
      expect(sorted.at(-1)?.value, `${name} ${key}`).toBe(counts.get(key));
    }
  }
}

function total(families: Map<string, Family>, name: string, labels = {}): number {
  return sampleValue(families, name, labels) ?? 0;
}

describe('GET /metrics of a real serve', () => {
  it('parses as the text format, with the promised types and labels, and moves as tasks run', async () => {
    home = await new TestHome().init();
    await home.profile('quick', fixture('short-job.sh', '0.1'));
    // The scrapes below must fall between the warning and the stall: seconds apart, for a
    // loaded machine.
    await home.profile('quiet', fixture('silent.sh', '600'), [
      '--stall-warn-after',
      '300ms',
      '--stall-timeout',
      '3s',
      '--kill-grace',
      '0',
    ]);
    const serve = await home.serve(['--metrics-open']);
    const before = await scrape(serve.url);
    checkShape(before);
    expect(total(before, 'warden_dispatch_latency_seconds_count', { profile: 'quick' })).toBe(0);
    expect(total(before, 'warden_stall_warnings_total')).toBe(0);

    const a = await home.task('one', ['--assignee', 'quick']);
    const b = await home.task('two', ['--assignee', 'quick']);
    await home.waitStatus(a, 'done');
    await home.waitStatus(b, 'done');
    const quiet = await home.task('three', ['--assignee', 'quiet']);
    // While the silent worker runs: one open run of its profile on this host, then a warning.
    const during = await waitFor('the silent run warned', async () => {
      const m = await scrape(serve.url);
      return total(m, 'warden_stall_warnings_total') >= 1 ? m : undefined;
    });
    checkShape(during);
    const host = (await home.runs(quiet))[0]?.host_id ?? '';
    expect(
      sampleValue(during, 'warden_workers', {
        profile: 'quiet',
        host,
        mode: 'spawned',
        state: 'running',
      }),
    ).toBe(1);
    expect(total(during, 'warden_host_workers')).toBe(1);
    await home.waitEvent('run_ended', quiet);

    // The ending's close comes after its event: the scrape that sees the slot free follows it.
    const after = await waitFor('the stalled run closed', async () => {
      const m = await scrape(serve.url);
      return total(m, 'warden_host_workers') === 0 ? m : undefined;
    });
    checkShape(after);
    // The store's figures, the same on every host.
    expect(total(after, 'warden_tasks', { board: 'default', status: 'done' })).toBe(2);
    expect(total(after, 'warden_runs_ended', { board: 'default', outcome: 'completed' })).toBe(2);
    expect(total(after, 'warden_runs_ended', { board: 'default', outcome: 'stalled' })).toBe(1);
    expect(sampleValue(after, 'warden_workers', { profile: 'quiet' })).toBeUndefined();
    // This host's own: two dispatches of quick, one of quiet, each timed; two exits detected.
    expect(total(after, 'warden_dispatch_latency_seconds_count', { profile: 'quick' })).toBe(2);
    expect(total(after, 'warden_dispatch_latency_seconds_count', { profile: 'quiet' })).toBe(1);
    const sum = total(after, 'warden_dispatch_latency_seconds_sum', { profile: 'quick' });
    expect(sum).toBeGreaterThan(0);
    expect(total(after, 'warden_detection_latency_seconds_count', { outcome: 'completed' })).toBe(
      2,
    );
    expect(total(after, 'warden_stall_warnings_total')).toBe(1);
    const ops = (m: Map<string, Family>, op: string) =>
      total(m, 'warden_store_operation_seconds_count', { operation: op });
    expect(ops(after, 'claimRuns')).toBeGreaterThan(ops(before, 'claimRuns'));
    expect(ops(after, 'finishRun')).toBe(3);
  });
});
