import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeReason, describeRun } from '../../src/core/describe.js';
import { GroupEnding } from '../../src/endings/phases.js';
import type { ProcessLayer } from '../../src/endings/process-layer.js';
import { procfsLayer } from '../../src/endings/process-layer.js';
import { supervisorHome } from '../helpers/supervisor.js';
import type { SupervisorHome } from '../helpers/supervisor.js';

/**
 * A run's processes outside its process group (issue 11, defect 1) are part of its ending: they
 * are signalled with the group, the run is closed only once they are gone too, and one that
 * survives SIGKILL holds the task exactly as a group that survives does (SPEC §3). The
 * operating system is a fake one: a group that dies on SIGKILL, and one escaped process that
 * dies on SIGTERM or on nothing at all.
 */
function layer(escapee: 'dies_on_term' | 'immortal'): ProcessLayer & { sent: string[] } {
  const sent: string[] = [];
  let group = true;
  let escaped = true;
  return {
    sent,
    groupAlive: () => group,
    signalGroup: (_pgid, signal) => {
      sent.push(`group ${signal}`);
      if (signal === 'SIGKILL') group = false;
      return true;
    },
    escaped: () => (escaped ? [{ pid: 4242, command: 'sleep 600' }] : []),
    signalEscaped: (_run, pids, signal) => {
      sent.push(`${pids.join(',')} ${signal}`);
      if (escapee === 'dies_on_term') escaped = false;
    },
    isSameProcessAlive: (identity) => procfsLayer.isSameProcessAlive(identity),
  };
}

const TARGET = { pgid: 100, runId: 7, cgroup: null, tokenHash: null };

describe('the phases of an ending with escaped processes', () => {
  it('signals them with the group, and closes only when they are gone too', () => {
    const os = layer('dies_on_term');
    const ending = new GroupEnding(TARGET, 1000, 0, null);
    expect(ending.step(0, os)).toBe('pending');
    expect(os.sent).toEqual(['group SIGTERM', '4242 SIGTERM']);
    // The group ignores SIGTERM: SIGKILL after the grace, to it and to what is left outside it.
    expect(ending.step(1000, os)).toBe('pending');
    expect(os.sent.slice(2)).toEqual(['group SIGKILL', ' SIGKILL']);
    expect(ending.step(1010, os)).toBe('gone');
    expect(ending.record).toMatchObject({
      term_at_ms: 0,
      term_ignored: true,
      kill_at_ms: 1000,
      empty_at_ms: 1010,
      escaped: [{ pid: 4242, command: 'sleep 600' }],
    });
  });

  it('one that outlives its group and SIGKILL holds the run: held, and SIGKILLed at every look', () => {
    const os = layer('immortal');
    const ending = new GroupEnding(TARGET, 1000, 0, null);
    expect(ending.step(0, os)).toBe('pending');
    expect(ending.step(1000, os)).toBe('pending');
    // The group is gone, the escaped process is not: not `gone`, however often it is looked at.
    expect(ending.step(2000, os)).toBe('pending');
    expect(ending.step(3000, os)).toBe('held');
    expect(ending.record).toMatchObject({ kill_at_ms: 1000, held_at_ms: 3000 });
    expect(ending.record.empty_at_ms).toBeUndefined();
    const before = os.sent.length;
    expect(ending.step(60_000, os)).toBe('holding');
    expect(os.sent.slice(before)).toEqual(['group SIGKILL', '4242 SIGKILL']);
  });
});

describe('a run whose escaped process will not die', () => {
  let h: SupervisorHome;
  let os: ReturnType<typeof layer>;

  beforeEach(async () => {
    os = layer('immortal');
    h = await supervisorHome({ processes: os });
  });

  afterEach(() => h.cleanup());

  it('holds the task as a group that survives would, and says which process and why', async () => {
    const { store, clock } = h;
    const { taskId, claim, result } = await h.stopUntilHeld((signal) =>
      os.sent.includes(`4242 ${signal}`),
    );
    expect(result).toMatchObject({ run_id: claim.run.id, verified_gone: false });

    // Held: its task keeps the run, so nothing starts beside the process that is left.
    expect(await store.getTask(taskId)).toMatchObject({
      status: 'running',
      current_run_id: claim.run.id,
    });
    const run = await store.getRun(claim.run.id);
    expect(run.state).toBe('ending');
    expect(run.reason?.phases).toMatchObject({
      held_at_ms: 3002,
      escaped: [{ pid: 4242, command: 'sleep 600' }],
    });
    expect(describeRun(run, clock.now())).toMatch(/held: a process of the run survived SIGKILL/);
    expect(describeReason(run)).toMatch(
      /1 process had left the process group \(setsid, a daemon\): pid 4242 sleep 600; ignored SIGTERM; SIGKILL after 1s grace; a process of the run survived SIGKILL: held since 3\.0s/,
    );
    const escaped = await store.listEvents({ kinds: ['processes_escaped'] });
    expect(escaped).toHaveLength(1);
    expect(escaped[0]).toMatchObject({
      run_id: claim.run.id,
      payload: { outcome: 'stopped', escaped: [{ pid: 4242, command: 'sleep 600' }] },
    });
    expect(await store.listEvents({ kinds: ['kill_failed'] })).toHaveLength(1);
  });
});
