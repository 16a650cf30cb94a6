import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resultReporter } from '../../src/api/worker-routes.js';
import { dispatcher, person } from '../../src/core/actor.js';
import { WardenError } from '../../src/core/errors.js';
import { KEPT_REPORT, KEPT_REPORT_REFUSAL, keepReport } from '../../src/sdk/kept-report.js';
import { bookLeftoverReports, keptReportBooker } from '../../src/serve/kept-reports.js';
import type { Claim } from '../../src/store/run-types.js';
import { Supervisor } from '../../src/supervisor/supervisor.js';
import { supervisorHome } from '../helpers/supervisor.js';
import type { SupervisorHome } from '../helpers/supervisor.js';

/**
 * A report a worker kept in its run's folder while serve did not answer (sdk/kept-report.ts),
 * booked by serve (serve/kept-reports.ts) on a real store: once, for its own run only, and
 * kept for a later look while the store does not take it.
 */
describe('booking a kept report', () => {
  let h: SupervisorHome;
  let claim: Claim;
  let runDir: string;
  const lines: string[] = [];
  const noAnswer = new WardenError('setup', 'no answer from http://127.0.0.1:9', {
    unreachable: true,
  });

  beforeEach(async () => {
    h = await supervisorHome();
    await h.store.addProfile('p', { argv: ['true'] }, person('ana'));
    await h.store.createTask({ title: 't', assignee: 'p' }, person('ana'));
    claim = await h.claimOne();
    runDir = mkdtempSync(join(tmpdir(), 'warden-kept-'));
    lines.length = 0;
  });

  afterEach(async () => {
    rmSync(runDir, { recursive: true, force: true });
    await h.cleanup();
  });

  const run = () => ({ runId: claim.run.id, taskId: claim.task.id, board: 'default', runDir });
  const kinds = async () =>
    (await h.store.listEvents({ task_id: claim.task.id, limit: 100 }))
      .filter((e) => e.kind.startsWith('kept_report'))
      .map((e) => [e.kind, e.run_id, e.payload]);

  const reporter = () =>
    resultReporter(h.store, { call: () => undefined, terminal: () => undefined }, () => ({}), 'h1');

  it('waits while the store does not take it, then books it once', async () => {
    keepReport(noAnswer, runDir, claim.token, 'complete', { summary: 'done in the outage' });
    const full = keptReportBooker(
      h.store,
      () => Promise.reject(new WardenError('storage', 'the disk is full')),
      'h1',
      (l) => lines.push(l),
    );
    await expect(full(run())).rejects.toThrow('the disk is full');
    expect(existsSync(join(runDir, KEPT_REPORT))).toBe(true);

    const book = keptReportBooker(h.store, reporter(), 'h1', (l) => lines.push(l));
    await book(run());
    expect(existsSync(join(runDir, `${KEPT_REPORT}.booked`))).toBe(true);
    expect(await h.store.getRun(claim.run.id)).toMatchObject({ outcome: 'completed' });
    expect(lines).toEqual([
      `run ${claim.run.id}: booked the complete report its worker kept while serve did not answer`,
    ]);
    expect(await kinds()).toEqual([['kept_report_booked', claim.run.id, { op: 'complete' }]]);
    // Booked once: nothing is left to book.
    await book(run());
    expect(lines).toHaveLength(1);
    expect(await kinds()).toHaveLength(1);
  });

  it("refuses a report kept with another run's token, and one the route would refuse", async () => {
    const book = keptReportBooker(h.store, reporter(), 'h1', (l) => lines.push(l));
    keepReport(noAnswer, runDir, 'wrun_someone-else', 'complete', { summary: 'forged' });
    // A link where serve writes the refusal: serve must not write where it points.
    const victim = join(h.dir, 'victim.txt');
    writeFileSync(victim, 'untouched\n');
    symlinkSync(victim, join(runDir, KEPT_REPORT_REFUSAL));
    await book(run());
    expect(readFileSync(victim, 'utf8')).toBe('untouched\n');
    expect(lstatSync(join(runDir, KEPT_REPORT_REFUSAL)).isFile()).toBe(true);
    const why =
      "the complete report its worker kept while serve did not answer was refused: not this run's: its token differs";
    expect(lines.at(-1)).toBe(`run ${claim.run.id}: ${why} (${join(runDir, KEPT_REPORT)}.refused)`);
    expect(existsSync(join(runDir, `${KEPT_REPORT}.refused`))).toBe(true);
    // The line the run's ending reason quotes, and the event a person can find it by.
    expect(readFileSync(join(runDir, KEPT_REPORT_REFUSAL), 'utf8')).toBe(`${why}\n`);
    expect(await kinds()).toEqual([
      ['kept_report_refused', claim.run.id, { op: 'complete', message: why }],
    ]);

    keepReport(noAnswer, runDir, claim.token, 'block', { reason: 'x', kind: 'no-such-kind' });
    await book(run());
    expect(lines.at(-1)).toMatch(/the block report .* was refused: /);
    expect(await h.store.getRun(claim.run.id)).toMatchObject({ state: 'running', outcome: null });
  });

  it('at start, refuses with a word a report kept for a run another host ended meanwhile', async () => {
    const runsDir = mkdtempSync(join(tmpdir(), 'warden-runs-'));
    try {
      const folder = (id: number): string => {
        const dir = join(runsDir, String(id));
        mkdirSync(dir);
        return dir;
      };
      // The run was ended elsewhere (its host's lease lapsed) while its worker's report waited.
      const ended = folder(claim.run.id);
      keepReport(noAnswer, ended, claim.token, 'complete', { summary: 'finished, unheard' });
      await h.store.endRun(
        claim.run.id,
        { outcome: 'host_lost', reason: { rule: 'host_lease_lapsed', message: 'lost' } },
        { host: 'h2', config: {} },
        dispatcher('h2'),
      );
      // A run this host watches is its looks' to book; a folder without a report is passed over.
      await h.store.createTask({ title: 'u', assignee: 'p' }, person('ana'));
      const watched = await h.claimOne();
      keepReport(noAnswer, folder(watched.run.id), watched.token, 'complete', { summary: 'w' });
      folder(9999);
      const book = keptReportBooker(h.store, reporter(), 'h1', (l) => lines.push(l));
      await bookLeftoverReports(
        h.store,
        book,
        runsDir,
        (id) => id === watched.run.id,
        (l) => lines.push(l),
      );
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        new RegExp(
          `^run ${claim.run.id}: the complete report its worker kept while serve did not answer was refused: .*no longer current`,
        ),
      );
      expect(existsSync(join(ended, `${KEPT_REPORT}.refused`))).toBe(true);
      expect(existsSync(join(runsDir, String(watched.run.id), KEPT_REPORT))).toBe(true);
      expect(await kinds()).toEqual([
        ['kept_report_refused', claim.run.id, expect.objectContaining({ op: 'complete' })],
      ]);
    } finally {
      rmSync(runsDir, { recursive: true, force: true });
    }
  });

  it('books a report kept before the machine rebooted as the run is adopted, rather than losing it', async () => {
    const runs = join(h.dir, 'runs');
    const dir = join(runs, String(claim.run.id));
    mkdirSync(dir, { recursive: true });
    // Its worker finished while serve was down and kept its complete; then the machine rebooted.
    await h.store.recordSpawn(
      claim.run.id,
      { boot_id: 'a-previous-boot', pid: process.pid, start_time: '1' },
      join(dir, 'output.log'),
    );
    keepReport(noAnswer, dir, claim.token, 'complete', { summary: 'finished before the reboot' });
    const adopting = new Supervisor({
      store: h.store,
      host: 'h1',
      clock: h.clock,
      config: {},
      runsDir: runs,
      baseEnv: () => ({ PATH: process.env.PATH ?? '/usr/bin:/bin' }),
      tickWaitMs: Infinity,
      keptReport: keptReportBooker(h.store, reporter(), 'h1', (l) => lines.push(l)),
    });
    try {
      await adopting.adoptAll();
    } finally {
      adopting.close();
    }
    expect(await h.store.getRun(claim.run.id)).toMatchObject({
      state: 'ended',
      outcome: 'completed',
    });
    expect(await h.store.getTask(claim.task.id)).toMatchObject({
      status: 'done',
      result: { summary: 'finished before the reboot' },
    });
    expect(existsSync(join(dir, `${KEPT_REPORT}.booked`))).toBe(true);
  });
});
