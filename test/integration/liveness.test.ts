import { afterEach, describe, expect, it } from 'vitest';
import { pidAlive } from '../../src/os/procfs.js';
import { TestHome, fixture, waitFor } from '../helpers/host.js';

let home: TestHome;
afterEach(async () => {
  await home.cleanup();
});

describe('liveness is not progress (SPEC §3)', () => {
  it('never reclaims a silent live worker; warns once; its result stands (must-show 1)', async () => {
    home = await new TestHome().init();
    // Real time is what is tested: a real worker silent for 3 s, past its warning, under serve.
    await home.profile('quiet', fixture('silent-then-complete.sh', '3'), [
      '--stall-warn-after',
      '1s',
      '--stall-timeout',
      '10s',
    ]);
    const id = await home.task('think hard', ['--assignee', 'quiet']);
    await home.serve();
    const done = await home.waitStatus(id, 'done', 30_000);
    expect(done.result?.summary).toBe('finished after 3s of silence');
    const runs = await home.runs(id);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ outcome: 'completed', attempt: 1 });
    const kinds = (await home.events(id)).map((e) => e.kind);
    expect(kinds.filter((k) => k === 'stall_warning')).toHaveLength(1);
    expect(kinds).not.toContain('task_requeued');
    // The worker lived its whole 3 s: one start and one stop, from one process.
    const life = home.lifeLines().filter((l) => l.task === id);
    expect(life.map((l) => l.event)).toEqual(['start', 'stop']);
    expect((life[1]?.at ?? 0) - (life[0]?.at ?? 0)).toBeGreaterThanOrEqual(2900);
  });

  it('ends a stopped (SIGSTOP) worker that ignores SIGTERM as stalled, kills its group, then retries (must-show 3)', async () => {
    home = await new TestHome().init();
    const pidsFile = `${home.root}/pids`;
    // Seconds between the warning and the stall, so a loaded machine's slow tick still sees the
    // warning first, and the worker is still there to be stopped below.
    await home.profile('stubborn', fixture('stubborn.sh'), [
      '--stall-warn-after',
      '300ms',
      '--stall-timeout',
      '2s',
      '--kill-grace',
      '500ms',
      '--backoff-base',
      '200ms',
      '--max-failures',
      '3',
    ]);
    const id = await home.task('hang', ['--assignee', 'stubborn']);
    await home.serve([], { PIDS_FILE: pidsFile });
    const [worker, grandchild] = await waitFor('the worker to record its pids', async () => {
      const { readFileSync, existsSync } = await import('node:fs');
      if (!existsSync(pidsFile)) return undefined;
      const parts = readFileSync(pidsFile, 'utf8').trim().split(' ').map(Number);
      return parts.length === 2 ? parts : undefined;
    });
    process.kill(worker ?? 0, 'SIGSTOP');
    // The next attempt starts only after the first one's group was verified gone.
    const second = await waitFor('attempt 2 to start', async () => (await home.runs(id))[1]);
    expect(pidAlive(worker ?? 0)).toBe(false);
    expect(pidAlive(grandchild ?? 0)).toBe(false);
    const [first] = await home.runs(id);
    expect(first).toMatchObject({ outcome: 'stalled', state: 'ended' });
    expect(first?.reason?.rule).toBe('stall_timeout');
    expect(first?.ended_at ?? Infinity).toBeLessThanOrEqual(second.started_at);
    const events = await home.events(id);
    const term = events.find((e) => e.kind === 'run_ending' && e.run_id === first?.id);
    const ended = events.find((e) => e.kind === 'run_ended' && e.run_id === first?.id);
    // SIGKILL came after kill_grace, since the worker ignored SIGTERM.
    expect((ended?.at ?? 0) - (term?.at ?? 0)).toBeGreaterThanOrEqual(500);
    expect(events.map((e) => e.kind)).toEqual(
      expect.arrayContaining(['stall_warning', 'task_requeued']),
    );
    const stop = await home.cli(['stop', String(id), '--now']);
    expect(stop.code).toBe(0);
    expect(stop.stdout).toMatch(/ended stopped; its processes are gone/);
    expect((await home.getTask(id)).status).toBe('blocked');
  });

  it('blocks stall_loop after two silent runs and never spawns a third (must-show 5)', async () => {
    home = await new TestHome().init();
    await home.profile('mute', fixture('silent.sh'), [
      '--stall-warn-after',
      '200ms',
      '--stall-timeout',
      '600ms',
      '--kill-grace',
      '200ms',
      '--backoff-base',
      '200ms',
      '--max-failures',
      '5',
    ]);
    await home.profile('marker', fixture('exit-code.sh', '0'));
    const id = await home.task('say nothing', ['--assignee', 'mute']);
    await home.serve();
    const blocked = await home.waitStatus(id, 'blocked', 30_000);
    const runs = await home.runs(id);
    expect(runs.map((r) => r.outcome)).toEqual(['stalled', 'stalled']);
    expect(blocked.block_rule).toBe('stall_loop');
    expect(blocked.block_reason).toBe(
      `stall_loop: 2 runs in a row made no progress (runs ${runs[0]?.id}, ${runs[1]?.id}; stall_loop_limit 2, stall_timeout 600ms)`,
    );
    // A third spawn would wait out a backoff: any delay of the task runs out now, and a task
    // created after the block starting proves a claim pass looked at the board since.
    const now = Date.now();
    await (
      await home.store()
    ).sqlite.run('UPDATE tasks SET not_before = ? WHERE id = ? AND not_before > ?', [now, id, now]);
    const marker = await home.task('after the block', ['--assignee', 'marker']);
    await waitFor('a claim pass after the block', async () => (await home.runs(marker)).length > 0);
    // And the marker's run over, so its worker's group (the shim, its log reader) is gone too.
    await home.waitStatus(marker, 'done', 30_000);
    expect(await home.runs(id)).toHaveLength(2);
  });
});
