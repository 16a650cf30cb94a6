import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeReason, describeRun } from '../../src/core/describe.js';
import type { ProcessLayer } from '../../src/endings/process-layer.js';
import { procfsLayer } from '../../src/endings/process-layer.js';
import { supervisorHome } from '../helpers/supervisor.js';
import type { SupervisorHome } from '../helpers/supervisor.js';

/**
 * The last guard of "never two workers" (SPEC §3): a process group that survives SIGKILL is
 * held. The worker is a real process; the operating system below the supervisor is one whose
 * processes refuse to die (signals are recorded, never delivered), so the phase can be driven
 * on a manual clock.
 */
function immortal(): ProcessLayer & { sent: string[] } {
  const sent: string[] = [];
  return {
    sent,
    groupAlive: () => true,
    signalGroup: (_pgid, signal) => {
      sent.push(signal);
      return true;
    },
    isSameProcessAlive: (identity) => procfsLayer.isSameProcessAlive(identity),
    escaped: () => [],
    signalEscaped: () => undefined,
  };
}

describe('an ending whose process group will not die', () => {
  let h: SupervisorHome;
  let layer: ReturnType<typeof immortal>;

  beforeEach(async () => {
    layer = immortal();
    h = await supervisorHome({ processes: layer });
  });

  afterEach(() => h.cleanup());

  it('holds the task, never restarts it, and says why on the run’s reason', async () => {
    const { store, clock, supervisor } = h;
    const { taskId, claim, result } = await h.stopUntilHeld((signal) =>
      layer.sent.includes(signal),
    );

    expect(result).toMatchObject({ run_id: claim.run.id, verified_gone: false });
    expect(result?.message).toMatch(/would not die; the task stays held \(kill_failed\)/);

    // Held: the task keeps its run, so no dispatcher can start a second worker beside it.
    const held = await store.getTask(taskId);
    expect(held).toMatchObject({ status: 'running', current_run_id: claim.run.id });
    const run = await store.getRun(claim.run.id);
    expect(run.state).toBe('ending');
    expect(run.reason).toMatchObject({ rule: 'stopped_by', by: 'ana' });
    expect(run.reason?.phases).toMatchObject({
      pid: run.process?.pid,
      grace_ms: 1000,
      term_at_ms: 0,
      term_ignored: true,
      kill_at_ms: 1001,
      held_at_ms: 3002,
    });
    expect(run.reason?.phases?.empty_at_ms).toBeUndefined();
    expect(describeReason(run)).toMatch(
      /ignored SIGTERM; SIGKILL after 1s grace; the group survived SIGKILL: held since 3\.0s/,
    );
    expect(describeRun(run, clock.now())).toMatch(/held: its process group survived SIGKILL/);
    const events = await store.listEvents({ kinds: ['kill_failed'] });
    expect(events).toHaveLength(1);
    expect(events[0]?.payload).toMatchObject({ pid: run.process?.pid, outcome: 'stopped' });

    // Later ticks keep sending SIGKILL and keep the task held; nothing is claimed for it.
    clock.advance(60_000);
    const before = layer.sent.length;
    await supervisor.tick();
    expect(layer.sent.slice(before)).toEqual(['SIGKILL']);
    expect(
      await store.claimRuns({ host: 'h1', maxWorkers: 4, limit: 4, mode: 'spawned' }, h.dir),
    ).toEqual([]);
    expect(await store.listRuns(taskId)).toHaveLength(1);
    expect((await store.getTask(taskId)).status).toBe('running');
  });
});
