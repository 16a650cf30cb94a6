import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { person } from '../../src/core/actor.js';
import { describeReason } from '../../src/core/describe.js';
import { waitFor } from '../helpers/host.js';
import { supervisorHome } from '../helpers/supervisor.js';
import type { SupervisorHome } from '../helpers/supervisor.js';

const STUBBORN = fileURLToPath(new URL('../fixtures/stubborn.sh', import.meta.url));

/**
 * What an ending records (SPEC §3 "Diagnosis"): real workers, a real store, time moved by hand.
 * A person reading `warden runs` learns what each phase did and who ended the run.
 */
describe('the phases an ending records', () => {
  let h: SupervisorHome;
  const ana = person('ana');

  beforeEach(async () => {
    h = await supervisorHome();
  });

  afterEach(() => h.cleanup());

  it('a worker that ignores SIGTERM: the grace, the SIGKILL and the empty group, by the person who stopped it', async () => {
    const { store, clock, supervisor, dir } = h;
    const pids = join(dir, 'pids');
    await store.addProfile(
      'stubborn',
      { argv: ['sh', STUBBORN], env: { PIDS_FILE: pids }, policy: { kill_grace: 2000 } },
      ana,
    );
    const task = await store.createTask({ title: 'ignore me', assignee: 'stubborn' }, ana);
    const claim = await h.claimOne();
    await supervisor.start(claim, {});
    await waitFor('the worker and its grandchild', () => existsSync(pids));

    const stopped = supervisor.stop(task.id, 'ana', { requeue: true });
    await waitFor(
      'the ending to begin',
      async () => (await store.getRun(claim.run.id)).state === 'ending',
    );
    clock.advance(2000);
    const result = await stopped;
    expect(result).toMatchObject({ verified_gone: true, outcome: 'stopped' });

    const run = await store.getRun(claim.run.id);
    expect(run.reason).toMatchObject({ rule: 'stopped_by', message: 'stopped by ana', by: 'ana' });
    expect(run.stop_intent).toEqual({ requeue: true });
    expect(run.reason?.phases).toMatchObject({
      pid: run.process?.pid,
      pgid: run.process?.pid,
      grace_ms: 2000,
      term_at_ms: 0,
      term_ignored: true,
      kill_at_ms: 2000,
      empty_at_ms: 2000,
    });
    expect(describeReason(run)).toMatch(
      /ignored SIGTERM; SIGKILL after 2s grace; group empty at 2\.0s/,
    );
    // The person acts the run's ending; the task went back in line as asked.
    const events = await store.listEvents({ task_id: task.id, kinds: ['run_ending', 'run_ended'] });
    expect(events.map((e) => [e.kind, e.actor])).toEqual([
      ['run_ending', 'person:ana'],
      ['run_ended', 'person:ana'],
    ]);
    expect((await store.getTask(task.id)).status).toBe('ready');
  });

  it('a failure keeps the worker’s last line of output, and the block reason quotes it', async () => {
    const { store, supervisor } = h;
    await store.addProfile(
      'failing',
      {
        argv: [
          'sh',
          '-c',
          'echo starting; echo "error: no API key in ANTHROPIC_API_KEY" >&2; exit 78',
        ],
      },
      ana,
    );
    const task = await store.createTask({ title: 'misconfigured', assignee: 'failing' }, ana);
    const claim = await h.claimOne();
    await supervisor.start(claim, {});
    await waitFor('the run to end', async () => {
      await supervisor.tick();
      return (await store.getRun(claim.run.id)).state === 'ended';
    });
    const run = await store.getRun(claim.run.id);
    expect(run.reason).toMatchObject({
      rule: 'exit_78',
      last_output: 'error: no API key in ANTHROPIC_API_KEY',
    });
    expect(run.reason?.phases?.empty_at_ms).toBe(0);
    expect((await store.getTask(task.id)).block_reason).toBe(
      'config_error: the worker exited 78 (configuration error); fix the profile or its environment; last output: "error: no API key in ANTHROPIC_API_KEY"',
    );
  });

  it('a spawn failure names the operating system’s error: ENOENT for a missing program, EACCES for one that is not executable', async () => {
    const { store, supervisor, dir } = h;
    const notExecutable = join(dir, 'agent.sh');
    writeFileSync(notExecutable, '#!/bin/sh\necho hi\n');
    chmodSync(notExecutable, 0o644);
    await store.addProfile('missing', { argv: [join(dir, 'nope')] }, ana);
    await store.addProfile('plain-file', { argv: [notExecutable] }, ana);
    const a = await store.createTask({ title: 'a', assignee: 'missing' }, ana);
    const b = await store.createTask({ title: 'b', assignee: 'plain-file' }, ana);
    const claims = await store.claimRuns(
      { host: 'h1', maxWorkers: 4, limit: 4, mode: 'spawned' },
      join(dir, 'ws'),
    );
    for (const c of claims) await supervisor.start(c, {});
    const [ra] = await store.listRuns(a.id);
    const [rb] = await store.listRuns(b.id);
    expect(ra).toMatchObject({ outcome: 'spawn_failed', state: 'ended' });
    expect(ra?.reason?.message).toMatch(/^spawn \S+\/nope ENOENT: the command was not found/);
    expect(rb).toMatchObject({ outcome: 'spawn_failed', state: 'ended' });
    expect(rb?.reason?.message).toMatch(/^spawn \S+\/agent\.sh EACCES: .*not an executable file/);
  });
});
