import { afterEach, describe, expect, it } from 'vitest';
import { TestHome, fixture, waitFor } from '../helpers/host.js';

let home: TestHome;
afterEach(async () => {
  await home.cleanup();
});

/**
 * `serve &` in a terminal that then closes: the shell's SIGHUP, and every later write to the
 * terminal failing. A trial's `serve` died of the signal without a word, its workers unwatched;
 * it goes on now, and a log nobody can read any more does not end it either.
 */
describe('serve after a SIGHUP and the loss of its log', () => {
  it('says so and goes on starting and booking work, its output gone', async () => {
    home = await new TestHome().init();
    await home.profile('quick', fixture('short-job.sh', '0.2'));
    // Pretty lines, as on a terminal: written by the process's own stderr stream.
    const serve = await home.serve(['--log-format', 'pretty']);
    serve.proc.kill('SIGHUP');
    await waitFor('the SIGHUP line', () => serve.output().includes('SIGHUP: serve goes on'));
    const first = await home.task('after the hangup', ['--assignee', 'quick']);
    await home.waitStatus(first, 'done');

    // The terminal is gone: whatever serve writes from here fails (EPIPE).
    serve.proc.stdout?.destroy();
    serve.proc.stderr?.destroy();
    // Another, so serve writes its line again, into nothing (its log level may say no more).
    serve.proc.kill('SIGHUP');
    const second = await home.task('with no log', ['--assignee', 'quick']);
    await home.waitStatus(second, 'done');
    expect(serve.proc.exitCode).toBeNull();
    expect((await fetch(`${serve.url}/healthz`)).status).toBe(200);
  });
});
