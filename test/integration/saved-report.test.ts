import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TestHome, waitFor } from '../helpers/host.js';

let home: TestHome;
afterEach(async () => {
  await home.cleanup();
});

/**
 * A worker that finishes while `serve` is down for longer than its report's retry (a trial's
 * serve was gone 11 minutes): its `complete` is kept in the run's folder and booked when serve
 * is back, instead of the run ending "exited 0 without calling complete" and the work done
 * again.
 */
describe('a report kept while serve did not answer', () => {
  it('is booked when serve is back: the task is done with the worker’s summary, once', async () => {
    home = await new TestHome().init();
    const script = [
      'while [ ! -e "$WARDEN_RUN_DIR/go" ]; do sleep 0.05; done',
      'WARDEN_RETRY_FOR_MS=300 warden worker complete --summary "done while serve was down"',
      'echo "complete said $?"',
    ].join('; ');
    await home.profile('finisher', ['sh', '-c', script]);
    const id = await home.task('finish in an outage', ['--assignee', 'finisher']);
    const serve = await home.serve();
    const run = await waitFor('the worker to start', async () =>
      (await home.runs(id)).find((r) => r.process !== null),
    );
    const runDir = join(home.root, 'runs', String(run.id));
    serve.proc.kill('SIGKILL');
    await serve.exited;
    writeFileSync(join(runDir, 'go'), '');
    await waitFor('the worker to exit', () => existsSync(join(runDir, 'exit')));
    expect(existsSync(join(runDir, 'report.json'))).toBe(true);
    const log = readFileSync(join(runDir, 'output.log'), 'utf8');
    expect(log).toContain('the report is kept in');
    expect(log).toContain('completed (kept for serve)');
    expect(log).toContain('complete said 0');

    await home.serve();
    const done = await home.waitStatus(id, 'done');
    expect(done.result?.summary).toBe('done while serve was down');
    const runs = await home.runs(id);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ outcome: 'completed', used_protocol: true });
  });
});
