import { afterEach, describe, expect, it } from 'vitest';
import { pidAlive } from '../../src/os/procfs.js';
import { TestHome, fixture, waitFor } from '../helpers/host.js';
import { freePort } from '../helpers/ports.js';

let home: TestHome;
afterEach(async () => {
  await home.cleanup();
});

describe('restarting serve never loses or duplicates work (SPEC §3 "Restart", P3, P6)', () => {
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    it(`adopts a worker that outlived a ${signal} of serve; it completes once (must-show 7)`, async () => {
      home = await new TestHome().init();
      const port = String(await freePort());
      await home.profile('steady', fixture('silent-then-complete.sh', '2'));
      const id = await home.task('outlive serve', ['--assignee', 'steady']);
      const first = await home.serve(['--port', port]);
      const start = await waitFor('the worker to start', () =>
        home.lifeLines().find((l) => l.task === id),
      );
      first.proc.kill(signal);
      await first.exited;
      expect(pidAlive(start.pid)).toBe(true);
      await home.serve(['--port', port]);
      const done = await home.waitStatus(id, 'done', 30_000);
      expect(done.result?.summary).toBe('finished after 2s of silence');
      const runs = await home.runs(id);
      expect(runs.map((r) => r.outcome)).toEqual(['completed']);
      expect((await home.events(id)).some((e) => e.kind === 'adopted')).toBe(true);
      expect(home.lifeLines().filter((l) => l.task === id && l.event === 'start')).toHaveLength(1);
    });
  }

  it('books a worker that exited 0 while serve was down by its recorded status, not as a crash (must-show 7)', async () => {
    home = await new TestHome().init();
    await home.profile('quick', fixture('short-job.sh', '0.5'));
    const id = await home.task('finish alone', ['--assignee', 'quick']);
    const first = await home.serve();
    await waitFor('the worker to start', () => home.lifeLines().find((l) => l.task === id));
    first.proc.kill('SIGKILL');
    await first.exited;
    await waitFor('the worker to finish', () =>
      home.lifeLines().find((l) => l.task === id && l.event === 'stop'),
    );
    await waitFor('its recorded exit status', async () => {
      const { existsSync } = await import('node:fs');
      const [run] = await home.runs(id);
      return run !== undefined && existsSync(`${home.root}/runs/${run.id}/exit`);
    });
    await home.serve();
    await home.waitStatus(id, 'done');
    const [run] = await home.runs(id);
    expect(run).toMatchObject({ outcome: 'completed', exit_code: 0 });
    expect(run?.reason?.rule).toBe('exit_zero');
    expect(await home.runs(id)).toHaveLength(1);
  });

  it('counts what a worker printed while serve was down as its last output and progress', async () => {
    home = await new TestHome().init();
    await home.profile('late', ['sh', '-c', 'echo early; sleep 1.5; echo late; exit 0']);
    const id = await home.task('print alone', ['--assignee', 'late']);
    const first = await home.serve();
    const started = await waitFor('the first line', async () => {
      const [r] = await home.runs(id);
      const { existsSync, readFileSync } = await import('node:fs');
      return r?.log_path && existsSync(r.log_path) && readFileSync(r.log_path, 'utf8') !== ''
        ? r
        : undefined;
    });
    first.proc.kill('SIGKILL');
    await first.exited;
    const killedAt = Date.now();
    await waitFor('its recorded exit status', async () => {
      const { existsSync } = await import('node:fs');
      return existsSync(`${home.root}/runs/${started.id}/exit`);
    });
    await home.serve();
    await home.waitStatus(id, 'done');
    const [run] = await home.runs(id);
    // "late" came after the kill: before, the stamps of the first serve's last look stayed.
    expect(run?.last_output_at).toBeGreaterThan(killedAt);
    expect(run?.last_progress_at).toBeGreaterThan(killedAt);
    // Whole milliseconds: a file's mtime has a fraction, which PostgreSQL's BIGINT refuses.
    expect(Number.isInteger(run?.last_output_at)).toBe(true);
  });

  it('stores what an adopted worker printed while serve was down at once, not at the next batch', async () => {
    home = await new TestHome().init();
    await home.profile('ticker', ['sh', '-c', 'while true; do echo tick; sleep 0.2; done']);
    const id = await home.task('prints on', ['--assignee', 'ticker']);
    // Batches a minute apart: only the adoption's own write can store the outage's output.
    const slow = ['--progress-flush', '60s'];
    const first = await home.serve(slow);
    const run = await waitFor('the worker to print', async () => {
      const [r] = await home.runs(id);
      const { existsSync, statSync } = await import('node:fs');
      return r?.log_path && existsSync(r.log_path) && statSync(r.log_path).size > 0 ? r : undefined;
    });
    first.proc.kill('SIGTERM');
    await first.exited;
    const stoppedAt = Date.now();
    await waitFor('a line printed with no serve', async () => {
      const { statSync } = await import('node:fs');
      return statSync(run.log_path ?? '').mtimeMs > stoppedAt + 300;
    });
    await home.serve(slow);
    // doctor and the board read the store: a healthy worker must not look silent since the stop.
    await waitFor(
      'the output stored',
      async () => ((await home.runs(id))[0]?.last_output_at ?? 0) > stoppedAt,
      10_000,
    );
    await home.ok(['stop', String(id), '--now']);
  });

  it('a second serve on the home refuses, and so does dispatch --once; no task ever runs twice (must-show 12)', async () => {
    home = await new TestHome().init();
    await home.profile('job', fixture('short-job.sh', '0.3'), ['--max-concurrency', '4']);
    const ids: number[] = [];
    for (let i = 0; i < 8; i++) ids.push(await home.task(`job ${i}`, ['--assignee', 'job']));
    await home.serve(['--max-workers', '4']);
    const second = await home.cli(['serve', '--port', '0']);
    expect(second.code).toBe(4);
    expect(second.stderr).toMatch(
      /^warden: warden serve is already running for this home \(host .+, pid \d+, since .+\); stop it first/,
    );
    expect(second.stderr.trim().split('\n')).toHaveLength(1);
    const once = await home.cli(['dispatch', '--once']);
    expect(once.code).toBe(4);
    for (const id of ids) await home.waitStatus(id, 'done', 30_000);
    for (const id of ids) {
      const runs = await home.runs(id);
      expect(runs).toHaveLength(1);
      const starts = home.lifeLines().filter((l) => l.task === id && l.event === 'start');
      expect(starts).toHaveLength(1);
    }
  });
});
