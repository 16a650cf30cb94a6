import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TestHome, waitFor } from '../helpers/host.js';
import { freePort } from '../helpers/ports.js';

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
/**
 * A home whose one task runs `script`, under a serve killed once the worker has started; then
 * the worker is let go (RUN_DIR/go). Serve is to be started again on the same port, as a
 * restarted one is, so the worker's later calls reach it.
 */
async function reportInOutage(
  script: string,
): Promise<{ id: number; runDir: string; port: string }> {
  home = await new TestHome().init();
  await home.profile('reporter', ['sh', '-c', script]);
  const id = await home.task('report in an outage', ['--assignee', 'reporter']);
  const port = String(await freePort());
  const serve = await home.serve(['--port', port]);
  const run = await waitFor('the worker to start', async () =>
    (await home.runs(id)).find((r) => r.process !== null),
  );
  const runDir = join(home.root, 'runs', String(run.id));
  serve.proc.kill('SIGKILL');
  await serve.exited;
  writeFileSync(join(runDir, 'go'), '');
  return { id, runDir, port };
}

describe('a report kept while serve did not answer', () => {
  it('is booked when serve is back: the task is done with the worker’s summary, once', async () => {
    const script = [
      'while [ ! -e "$WARDEN_RUN_DIR/go" ]; do sleep 0.05; done',
      'WARDEN_RETRY_FOR_MS=300 warden worker complete --summary "done while serve was down"',
      'echo "complete said $?"',
      // An agent that takes another turn: the same report again is that one; another is refused.
      'WARDEN_RETRY_FOR_MS=300 warden worker complete --summary "done while serve was down"',
      'echo "again said $?"',
      'WARDEN_RETRY_FOR_MS=300 warden worker ask --question "and BigInt too?"',
      'echo "ask said $?"',
    ].join('; ');
    const { id, runDir, port } = await reportInOutage(script);
    await waitFor('the worker to exit', () => existsSync(join(runDir, 'exit')));
    expect(existsSync(join(runDir, 'report.json'))).toBe(true);
    const log = readFileSync(join(runDir, 'output.log'), 'utf8');
    expect(log).toContain('the report is kept in');
    expect(log).toContain('completed (kept for serve)');
    expect(log).toContain('complete said 0');
    expect(log).toContain('again said 0');
    expect(log).toContain('a complete report is already kept for this run in');
    expect(log).toContain('ask said 4');
    // doctor, serve down, says the report waits in the run's folder.
    expect((await home.cli(['doctor'])).stdout).toContain(
      "its worker's complete report is kept in its folder, and serve books it once it is back",
    );

    await home.serve(['--port', port]);
    const done = await home.waitStatus(id, 'done');
    expect(done.result?.summary).toBe('done while serve was down');
    const runs = await home.runs(id);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ outcome: 'completed', used_protocol: true });
  });

  it('is booked as soon as serve is back, before the worker exits: a later report is refused', async () => {
    const script = [
      'while [ ! -e "$WARDEN_RUN_DIR/go" ]; do sleep 0.05; done',
      'WARDEN_RETRY_FOR_MS=300 warden worker complete --summary "first, kept"',
      'while [ ! -e "$WARDEN_RUN_DIR/go2" ]; do sleep 0.05; done',
      'warden worker fail --reason "second, live"',
      'echo "fail said $?"',
    ].join('; ');
    const { id, runDir, port } = await reportInOutage(script);
    await waitFor('the report to be kept', () => existsSync(join(runDir, 'report.json')));
    await home.serve(['--port', port]);
    await waitFor('the kept report to be booked', () =>
      existsSync(join(runDir, 'report.json.booked')),
    );
    writeFileSync(join(runDir, 'go2'), '');
    const done = await home.waitStatus(id, 'done');
    expect(done.result?.summary).toBe('first, kept');
    const log = readFileSync(join(runDir, 'output.log'), 'utf8');
    expect(log).toContain('a run reports its result once');
    expect(log).toContain('fail said 4');
  });

  it('refused (not this run’s token) is said on the run’s ending reason and in an event', async () => {
    const script = [
      'while [ ! -e "$WARDEN_RUN_DIR/go" ]; do sleep 0.05; done',
      'WARDEN_RETRY_FOR_MS=300 warden worker complete --summary "kept, then tampered with"',
      'while [ ! -e "$WARDEN_RUN_DIR/go2" ]; do sleep 0.05; done',
    ].join('; ');
    const { id, runDir, port } = await reportInOutage(script);
    const file = join(runDir, 'report.json');
    await waitFor('the report to be kept', () => existsSync(file));
    const kept = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    writeFileSync(file, JSON.stringify({ ...kept, token_sha256: '0'.repeat(64) }));
    await home.serve(['--port', port]);
    const refused = await home.waitEvent('kept_report_refused', id);
    const why =
      "the complete report its worker kept while serve did not answer was refused: not this run's: its token differs";
    expect(refused.payload).toMatchObject({ op: 'complete', message: why });
    writeFileSync(join(runDir, 'go2'), '');
    const ended = await waitFor('the run to end', async () =>
      (await home.runs(id)).find((r) => r.outcome !== null),
    );
    expect(ended.outcome).toBe('crashed');
    expect(ended.reason?.message).toBe(
      `the worker used the worker protocol but exited 0 without calling complete; ${why}`,
    );
  });
});
