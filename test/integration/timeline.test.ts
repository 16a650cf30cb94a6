/*
 * A run's timeline end to end (issue #15): a real worker writes, reports progress, then goes
 * silent; serve warns, ends it stalled with SIGTERM; `warden runs ID --timeline` and
 * `GET /api/v1/runs/{id}/timeline` put all of it on one axis and say why it ended.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunTimeline } from '../../src/core/timeline.js';
import { TestHome } from '../helpers/host.js';

let home: TestHome | undefined;
afterEach(async () => {
  await home?.cleanup();
  home = undefined;
});

describe('a run timeline', () => {
  it('shows output, progress, the warning, the signal and the ending, in the CLI and the API', async () => {
    home = await new TestHome().init();
    await home.profile(
      'talker',
      ['sh', '-c', 'echo compiling; warden worker progress --note "tests pass"; exec sleep 600'],
      // The stall comes 5 s after the last progress: time for `warden worker progress` to
      // start and be heard first on a busy machine.
      ['--stall-warn-after', '600ms', '--stall-timeout', '5s', '--kill-grace', '5s'],
    );
    const id = await home.task('talk then hush', ['--assignee', 'talker']);
    const serve = await home.serve();
    await home.waitEvent('run_ended', id, 30_000);
    const run = (await home.runs(id))[0];
    expect(run?.outcome).toBe('stalled');

    const json = JSON.parse(
      await home.ok(['runs', String(id), '--timeline', '--json']),
    ) as RunTimeline;
    expect(json.run_id).toBe(run?.id);
    const kinds = json.items.map((i) => i.kind);
    for (const k of ['start', 'output', 'progress', 'stall_warning', 'ending', 'signal', 'end'])
      expect(kinds, k).toContain(k);
    // One time axis: sorted, the start first and the end last of the run's own items.
    const times = json.items.map((i) => i.at);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    expect(kinds[0]).toBe('start');
    expect(json.items.find((i) => i.kind === 'progress')?.text).toContain('tests pass');
    expect(json.items.find((i) => i.kind === 'signal')?.figures.signal).toBe('SIGTERM');
    expect(json.why).toMatch(/^stalled after .*; last output .* before, progress call .* before/);

    const text = await home.ok(['runs', String(id), '--timeline']);
    expect(text.split('\n')[0]).toBe(`run ${run?.id} of task #${id}, attempt 1: ${json.why}`);
    expect(text).toMatch(/stall_warning +silent for \d/);
    expect(text).toMatch(/signal +SIGTERM to process group \d+/);

    const token = readFileSync(join(home.root, 'admin.token'), 'utf8').trim();
    const get = (path: string) =>
      fetch(`${serve.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    const api = await get(`/api/v1/runs/${run?.id}/timeline`);
    expect(api.status).toBe(200);
    const body = (await api.json()) as RunTimeline;
    expect(body.items.map((i) => i.kind)).toEqual(kinds);
    expect((await get('/api/v1/runs/abc/timeline')).status).toBe(400);
    expect((await get('/api/v1/runs/999999/timeline')).status).toBe(404);
    expect((await fetch(`${serve.url}/api/v1/runs/${run?.id}/timeline`)).status).toBe(401);
  });

  it('puts a progress call where it came, not where the run last printed', async () => {
    home = await new TestHome().init();
    await home.profile('steps', [
      'sh',
      '-c',
      'warden worker progress --note "step 1"; sleep 1.5; echo "printed late"; warden worker complete --summary ok',
    ]);
    const id = await home.task('a call, then output', ['--assignee', 'steps']);
    // serve's default batch (15 s): the call and the late output land in the ending's batch.
    await home.serve(['--progress-flush', '15s']);
    await home.waitStatus(id, 'done', 30_000);
    const json = JSON.parse(
      await home.ok(['runs', String(id), '--timeline', '--json']),
    ) as RunTimeline;
    const progress = json.items.find((i) => i.kind === 'progress');
    const ending = json.items.find((i) => i.kind === 'end');
    expect(progress?.text).toContain('step 1');
    // Before, it was stamped with the run's last sign of progress of any kind: the late output,
    // at the ending.
    expect((ending?.at ?? 0) - (progress?.at ?? 0)).toBeGreaterThan(1000);
  });

  it('refuses what it cannot show, with one line and the documented exit code', async () => {
    home = await new TestHome().init();
    const id = await home.task('never run');
    const none = await home.cli(['runs', String(id), '--timeline']);
    expect(none.code).toBe(3);
    expect(none.stderr).toContain(`task ${id} has no runs yet, so no timeline`);
    const alone = await home.cli(['runs', String(id), '--attempt', '2']);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toContain('--attempt: only with --timeline');
    const zero = await home.cli(['runs', String(id), '--timeline', '--attempt', '0']);
    expect(zero.code).toBe(2);
  });
});
