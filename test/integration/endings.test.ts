import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pidAlive } from '../../src/os/procfs.js';
import { TestHome, fixture, waitFor } from '../helpers/host.js';

let home: TestHome;
afterEach(async () => {
  await home.cleanup();
});

function readPids(path: string): number[] | undefined {
  if (!existsSync(path)) return undefined;
  const pids = readFileSync(path, 'utf8').trim().split(' ').map(Number);
  return pids.length === 2 ? pids : undefined;
}

describe('every ending goes through one path (SPEC §3)', () => {
  it('books a SIGKILLed worker crashed with its signal, requeues after backoff, and the next attempt completes (must-show 2)', async () => {
    home = await new TestHome().init();
    // Attempt 1 sleeps long enough to be killed; attempt 2 finishes at once.
    await home.profile(
      'sleepy',
      [
        'sh',
        '-c',
        `if [ "$WARDEN_ATTEMPT" = 1 ]; then exec sh ${fixture('sleeper.sh')[1]} 60; fi; echo second`,
      ],
      ['--backoff-base', '300ms'],
    );
    const id = await home.task('sleep', ['--assignee', 'sleepy']);
    await home.serve();
    const run = await waitFor('the worker to print its pid', async () => {
      const [r] = await home.runs(id);
      const log = r?.log_path ? readFileSync(r.log_path, 'utf8') : '';
      const pid = /pid (\d+)/.exec(log)?.[1];
      return r && pid ? { run: r, pid: Number(pid) } : undefined;
    });
    process.kill(run.pid, 'SIGKILL');
    const done = await home.waitStatus(id, 'done', 30_000);
    expect(done.counters.failures).toBe(1);
    const [first, second] = await home.runs(id);
    expect(first).toMatchObject({ outcome: 'crashed', signal: 'SIGKILL', exit_code: null });
    expect(first?.reason?.message).toBe('the worker was killed by SIGKILL');
    expect(second).toMatchObject({ outcome: 'completed', attempt: 2 });
    const requeued = (await home.events(id)).find((e) => e.kind === 'task_requeued');
    const notBefore = requeued?.payload.not_before as number;
    // Backoff 300 ms ± 20 %: the second attempt did not start before it.
    expect(notBefore - (requeued?.at ?? 0)).toBeGreaterThanOrEqual(240);
    expect(second?.started_at ?? 0).toBeGreaterThanOrEqual(notBefore);
  });

  it('refuses a superseded worker’s complete with stale_run; the newer result stands (must-show 4)', async () => {
    home = await new TestHome().init();
    const tokens = join(home.root, 'tokens');
    await import('node:fs').then((fs) => fs.mkdirSync(tokens));
    await home.profile('keeper', fixture('token-keeper.sh'), ['--backoff-base', '200ms']);
    const id = await home.task('keep tokens', ['--assignee', 'keeper']);
    const serve = await home.serve([], { TOKENS_DIR: tokens });
    await waitFor('attempt 1 to save its token', () => existsSync(join(tokens, 'attempt-1')));
    const stop = await home.cli(['stop', String(id), '--requeue']);
    expect(stop.code).toBe(0);
    const done = await home.waitStatus(id, 'done', 30_000);
    expect(done.result?.summary).toBe('result of attempt 2');
    const oldToken = readFileSync(join(tokens, 'attempt-1'), 'utf8').trim();
    const late = await home.cli(['worker', 'complete', '--summary', 'stale result'], {
      WARDEN_URL: serve.url,
      WARDEN_RUN_TOKEN: oldToken,
    });
    expect(late.code).toBe(4);
    expect(late.stderr).toMatch(/^warden: run \d+ \(attempt 1\) of task \d+ is no longer current/);
    expect((await home.getTask(id)).result?.summary).toBe('result of attempt 2');
    const stale = (await home.events(id)).filter((e) => e.kind === 'stale_run');
    expect(stale).toHaveLength(1);
    // The check at start fails the same way (`warden worker show`).
    const show = await home.cli(['worker', 'show'], {
      WARDEN_URL: serve.url,
      WARDEN_RUN_TOKEN: oldToken,
    });
    expect(show.code).toBe(4);
  });

  it('stopping a wrapper that runs its agent in the background ends the whole group (must-show 8)', async () => {
    home = await new TestHome().init();
    const pidsFile = join(home.root, 'pids');
    await home.profile('wrapper', fixture('background-agent.sh'));
    const id = await home.task('wrap', ['--assignee', 'wrapper']);
    await home.serve([], { PIDS_FILE: pidsFile });
    const [wrapper, agent] = await waitFor('the agent to start', () => readPids(pidsFile));
    const stop = await home.cli(['stop', String(id), '--json']);
    expect(stop.code).toBe(0);
    expect(JSON.parse(stop.stdout)).toMatchObject({ outcome: 'stopped', verified_gone: true });
    expect(pidAlive(wrapper ?? 0)).toBe(false);
    expect(pidAlive(agent ?? 0)).toBe(false);
    const task = await home.getTask(id);
    expect(task).toMatchObject({
      status: 'blocked',
      block_rule: 'stopped',
      block_kind: 'needs_input',
    });
    expect(task.block_reason).toBe('stopped by tester');
  });

  it('accepts complete during a stalled ending, and answers a repeat the same way (must-show 9)', async () => {
    home = await new TestHome().init();
    const answers = join(home.root, 'answer');
    await home.profile('late', fixture('complete-on-term.sh'), [
      '--stall-warn-after',
      '200ms',
      '--stall-timeout',
      '700ms',
      // Room for its two `warden worker complete` on a busy machine; it exits after them.
      '--kill-grace',
      '30s',
    ]);
    const id = await home.task('finish late', ['--assignee', 'late']);
    await home.serve([], { ANSWERS: answers });
    const done = await home.waitStatus(id, 'done', 30_000);
    expect(done.result?.summary).toBe('done, reported while ending');
    const [run] = await home.runs(id);
    expect(run?.outcome).toBe('completed');
    const first = JSON.parse(readFileSync(`${answers}.1`, 'utf8')) as Record<string, unknown>;
    const second = JSON.parse(readFileSync(`${answers}.2`, 'utf8')) as Record<string, unknown>;
    expect(first).toMatchObject({ op: 'complete', outcome: 'completed', run_id: run?.id });
    expect(second).toEqual(first);
    const ending = (await home.events(id)).filter((e) => e.kind === 'run_ending');
    expect(ending.map((e) => e.payload.outcome)).toEqual(['stalled', 'completed']);
  });
});
