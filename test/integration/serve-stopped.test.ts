/**
 * `serve` itself stopped (Ctrl-Z, a debugger, `docker pause`) while a spawned worker reports
 * progress only through `warden worker progress`: its calls wait for `serve`, so the stop is
 * no silence of the worker's (SPEC §3: a live, progressing worker is never reclaimed).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { TestHome, fixture, waitFor } from '../helpers/host.js';

let home: TestHome;
afterEach(async () => {
  await home.cleanup();
});

describe('serve stopped while its workers report', () => {
  it('does not count the stop as their silence: the worker completes, once', async () => {
    home = await new TestHome().init();
    await home.profile('reporter', fixture('progress-only.sh', '12', '0.25'), [
      '--stall-warn-after',
      '4s',
      '--stall-timeout',
      '8s',
    ]);
    const id = await home.task('report while serve is stopped', ['--assignee', 'reporter']);
    const serve = await home.serve();
    await waitFor('the worker to start', () =>
      home.lifeLines().some((l) => l.task === id && l.event === 'start'),
    );
    serve.proc.kill('SIGSTOP');
    // Real time is what is tested: a stop longer than the stall timeout, not an event. The
    // timeout is wide, as each report starts a `warden` process, slow on a loaded machine.
    await new Promise((r) => setTimeout(r, 10_000));
    serve.proc.kill('SIGCONT');
    await home.waitStatus(id, 'done', 60_000);
    const runs = await home.runs(id);
    expect(runs.map((r) => r.outcome)).toEqual(['completed']);
    expect(serve.output()).toMatch(
      /serve did not run for \d+\.\d s \(stopped, or its event loop held\); the silences of 1 run\(s\) leave it out/,
    );
    // Said once: with no pull lease open, the leases' side has nothing to add.
    expect(serve.output()).not.toContain('pull lease(s) moved on');
  }, 120_000);
});
