/**
 * Several hosts on one PostgreSQL (SPEC §3 "Several hosts", issue #6): three real `warden serve`
 * processes, each with its own home, share one board; one host is SIGKILLed with its workers,
 * another is paused past its lease, and every task still ends done exactly once.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { person } from '../../src/core/actor.js';
import type { PgStore } from '../../src/store/postgres/open.js';
import { PgDriver } from '../../src/store/postgres/driver.js';
import { PrivatePg } from '../helpers/private-pg.js';
import { FIXTURES, INHERIT_FIXTURE_ENV, waitFor } from '../helpers/host.js';
import type { TestHome } from '../helpers/host.js';
import {
  killWorkers,
  longestPause,
  openShared,
  overlaps,
  pgHomes,
  runTokens,
  shimGroups,
  workerLives,
} from '../helpers/hosts.js';

const URL = process.env.WARDEN_TEST_PG_URL;
// Long enough that a busy CI machine does not stall a host's renewals past its freeze point.
const TTL_MS = 6_000;
const TASKS = 300;

if (!URL && process.env.CI) {
  throw new Error('WARDEN_TEST_PG_URL is not set: CI must run the several-hosts tests');
}

let homes: TestHome[] = [];
let shared: PgStore | null = null;
let schema = '';
let scratch = '';
let dbUrl = URL ?? '';
let privatePg: PrivatePg | null = null;

afterEach(async () => {
  const leaked = homes.flatMap((h) => shimGroups(h.root));
  for (const h of homes) killWorkers(h.root);
  for (const h of homes) await h.cleanup();
  homes = [];
  await shared?.close();
  shared = null;
  if (privatePg) privatePg.destroy();
  else if (schema !== '' && URL) {
    const admin = await PgDriver.connect({ url: URL, max: 1 });
    await admin.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.close();
  }
  privatePg = null;
  dbUrl = URL ?? '';
  if (scratch !== '') rmSync(scratch, { recursive: true, force: true });
  expect(leaked, 'worker process groups left running').toEqual([]);
});

async function setUp(count: number, job: readonly string[] = ['10']): Promise<{ lifeLog: string }> {
  schema = `hosts_${process.pid}_${Date.now()}`;
  scratch = mkdtempSync(join(tmpdir(), 'warden-hosts-'));
  const lifeLog = join(scratch, 'life.log');
  homes = await pgHomes(dbUrl, schema, count, lifeLog);
  shared = await openShared(dbUrl, schema);
  await homes[0]?.ok([
    'profile',
    'add',
    'job',
    '--backoff-base',
    '200ms',
    ...INHERIT_FIXTURE_ENV,
    '--no-check',
    '--',
    'sh',
    join(FIXTURES, 'beating-job.sh'),
    ...job,
  ]);
  return { lifeLog };
}

/** A file's text, or '' when it is not there. */
function readIfThere(path: string): string {
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}

function serveArgs(id: string, ttl = `${TTL_MS}ms`): string[] {
  return ['--host-id', id, '--host-ttl', ttl, '--max-workers', '4'];
}

async function doneCount(store: PgStore): Promise<number> {
  return (await store.countTasks('default'))['done'] ?? 0;
}

describe.skipIf(!URL)('several hosts on one PostgreSQL', () => {
  it('loses no task and never runs one twice when a host is killed and another is paused past its lease', async () => {
    const { lifeLog } = await setUp(3);
    const store = shared as PgStore;
    const [a, b, c] = homes as [TestHome, TestHome, TestHome];
    const ana = person('ana');
    for (let i = 0; i < TASKS; i++)
      await store.createTask({ title: `job ${i}`, assignee: 'job' }, ana);
    const serveA = await a.serve(serveArgs('a'));
    const serveB = await b.serve(serveArgs('b'));
    const serveC = await c.serve(serveArgs('c'));

    // Mid-way: host b's serve and all its workers die at once.
    await waitFor(
      'a third of the tasks done',
      async () => (await doneCount(store)) >= TASKS / 3,
      120_000,
    );
    await waitFor('host b to run several things', () => shimGroups(b.root).length >= 2, 30_000);
    serveB.proc.kill('SIGKILL');
    killWorkers(b.root);
    await serveB.exited;

    // Then host c's serve is paused for longer than its lease, and resumed.
    await waitFor('host c to run something', () => shimGroups(c.root).length > 0, 30_000);
    serveC.proc.kill('SIGSTOP');
    const bLost = await waitFor(
      'host b to be reaped',
      async () =>
        (await store.listEvents({ kinds: ['host_lost'], limit: 100 })).find(
          (e) => e.payload.host === 'b',
        ),
      30_000,
    );
    const cLost = await waitFor(
      'host c to be reaped while paused',
      async () =>
        (await store.listEvents({ kinds: ['host_lost'], limit: 100 })).find(
          (e) => e.payload.host === 'c',
        ),
      30_000,
    );
    serveC.proc.kill('SIGCONT');

    await waitFor('every task done', async () => (await doneCount(store)) === TASKS, 240_000).catch(
      async (err: unknown) => {
        // What tells a paused profile, a dead serve and a lease never valid apart (one CI run
        // on 2026-12-06 left 3 tasks ready for 240 s and said no more than the counts).
        const counts = await store.countTasks('default');
        const waiting = await store.listTasks({ statuses: ['ready', 'todo', 'running'] });
        const kinds = ['profile_paused', 'host_lost', 'kill_failed', 'run_ended'] as const;
        const events = (await store.listEvents({ kinds: [...kinds], limit: 10_000 })).map(
          (e) => `${e.kind}:${JSON.stringify(e.payload.outcome ?? e.payload.host ?? '')}`,
        );
        const tally: Record<string, number> = {};
        for (const e of events) tally[e] = (tally[e] ?? 0) + 1;
        const serves = { a: serveA, c: serveC };
        const said = Object.entries(serves).map(
          ([id, s]) => `serve ${id} exit ${String(s.proc.exitCode)}: ${s.output().slice(-1500)}`,
        );
        throw new Error(
          [
            `${String(err)}; tasks by status: ${JSON.stringify(counts)}`,
            `profile job: ${JSON.stringify(await store.getProfile('job'))}`,
            `waiting: ${JSON.stringify(waiting.map((t) => ({ id: t.id, status: t.status, not_before: t.not_before, counters: t.counters })))}`,
            `events: ${JSON.stringify(tally)}`,
            ...said,
          ].join('\n'),
        );
      },
    );

    // Host b's runs were requeued within TTL + 2 s of its last renewal (store clock).
    const reapedB = bLost.payload.runs as number[];
    const lastRenewalB = Number(bLost.payload.renewed_at);
    const delays: number[] = [];
    for (const id of reapedB) {
      const run = await store.getRun(id);
      expect(run.outcome).toBe('host_lost');
      delays.push((run.ended_at ?? 0) - lastRenewalB);
    }
    process.stdout.write(
      `host b: last renewal ${new Date(lastRenewalB).toISOString()}, ${reapedB.length} runs requeued ` +
        `${reapedB.length ? `${Math.min(...delays)}–${Math.max(...delays)} ms` : '(none)'} after it (TTL ${TTL_MS} ms); ` +
        `host c: ${(cLost.payload.runs as number[]).length} runs reaped while paused\n`,
    );
    expect(reapedB.length).toBeGreaterThan(0);
    for (const d of delays) expect(d).toBeLessThanOrEqual(TTL_MS + 2_000);
    // Host c, back, does not log its reaped runs as `ended stopped`: they ended host_lost
    // elsewhere. (Whether it logs them at all depends on which of its looks finds them first:
    // a worker its shim already killed for the lapsed lease is forgotten without a line.)
    const saidC = serveC.output();
    for (const id of cLost.payload.runs as number[]) {
      expect(saidC).not.toMatch(new RegExp(`run ${id} of task \\d+ ended stopped`));
    }

    // Every task done, with exactly one completed run.
    const tasks = await store.listTasks({ limit: 10_000 });
    expect(tasks).toHaveLength(TASKS);
    for (const t of tasks) {
      expect(t.status).toBe('done');
      const runs = await store.listRuns(t.id);
      expect(runs.filter((r) => r.outcome === 'completed')).toHaveLength(1);
    }

    // P3 on the workers' own lines: no superseded worker wrote after a newer one started,
    // and none wrote after its run had ended.
    const lives = workerLives(lifeLog);
    expect(overlaps(lives)).toEqual([]);
    for (const w of lives.filter((l) => !l.stopped)) {
      const run = await store.getRun(w.run);
      const lines = w.times.map((t) => t - (run.ended_at ?? 0)).join(' ');
      const home = ({ a, b, c } as Record<string, TestHome>)[run.host_id ?? ''];
      const freezes = home ? readIfThere(join(home.root, 'runs', String(run.id), 'freezes')) : '';
      const why = `${run.reason?.rule ?? '?'} by ${run.reason?.host ?? '?'}: ${run.reason?.message ?? ''}`;
      const what = `worker ${w.pid} of run ${run.id} on host ${run.host_id} (${run.outcome}, ${why}, ended ${run.ended_at}, last line ${w.last}; its lines at ms from the end: ${lines}; host c last renewed ${Number(cLost.payload.renewed_at)}; its freezes (uptime cs): ${freezes.trim() || 'none'})`;
      expect(run.outcome, what).toBe('host_lost');
      expect(w.last, what).toBeLessThanOrEqual(run.ended_at ?? 0);
    }

    // Every write with a superseded run's token is refused.
    let refused = 0;
    for (const [runId, token] of runTokens(lifeLog)) {
      const run = await store.getRun(runId);
      if (run.outcome !== 'host_lost') continue;
      const res = await fetch(`${serveA.url}/api/v1/worker/progress`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ note: 'late' }),
      });
      expect(res.status).toBe(409);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('stale_run');
      refused++;
    }
    expect(refused).toBeGreaterThan(0);
  }, 420_000);

  it('rides out PostgreSQL stopped for 20 s: workers freeze at most briefly, nothing is reaped, all complete once', async () => {
    privatePg = await PrivatePg.create();
    dbUrl = privatePg.url;
    // Each job beats every 200 ms for about 28 s, so the outage falls inside every run.
    const { lifeLog } = await setUp(2, ['140', '0.2']);
    const store = shared as PgStore;
    const [a, b] = homes as [TestHome, TestHome];
    const ana = person('ana');
    for (let i = 0; i < 8; i++)
      await store.createTask({ title: `long ${i}`, assignee: 'job' }, ana);
    await store.close();
    shared = null;
    await a.serve(['--host-id', 'a', '--max-workers', '4']);
    await b.serve(['--host-id', 'b', '--max-workers', '4']);
    await waitFor(
      'eight workers running',
      () => shimGroups(a.root).length + shimGroups(b.root).length === 8,
      30_000,
    );
    const pg = privatePg;
    pg.stop();
    const stoppedAt = Date.now();
    // Real time is what is tested: real serves must ride out a real 20 s outage (30 s leases).
    await new Promise((r) => setTimeout(r, 20_000));
    pg.start();
    const restartedAt = Date.now();
    shared = await openShared(dbUrl, schema);
    const again = shared;
    await waitFor('every task done', async () => (await doneCount(again)) === 8, 120_000);

    const tasks = await again.listTasks({ limit: 100 });
    for (const t of tasks) {
      const runs = await again.listRuns(t.id);
      expect(runs.map((r) => r.outcome)).toEqual(['completed']);
    }
    expect(await again.listEvents({ kinds: ['host_lost'] })).toEqual([]);
    // The workers' own beats, by run: the longest silence of any worker is how long it was frozen.
    const longest = longestPause(lifeLog);
    process.stdout.write(
      `PostgreSQL down ${restartedAt - stoppedAt} ms; the longest pause of any worker: ${longest} ms (beats every 200 ms); host_lost: 0\n`,
    );
    expect(longest).toBeLessThan(10_000);
    expect(overlaps(workerLives(lifeLog))).toEqual([]);
  }, 240_000);

  it('stops a run of another host through any host’s API: fenced here, its processes ended there', async () => {
    await setUp(2, ['3000', '0.2']);
    const store = shared as PgStore;
    const [a, b] = homes as [TestHome, TestHome];
    await b.serve(serveArgs('b', '30s'));
    const task = await store.createTask({ title: 'long', assignee: 'job' }, person('ana'));
    const run = await waitFor('the run on host b', async () =>
      (await store.listRuns(task.id)).find((r) => r.process !== null),
    );
    const serveA = await a.serve(serveArgs('a', '30s'));
    const token = readFileSync(join(a.root, 'admin.token'), 'utf8').trim();
    const res = await fetch(`${serveA.url}/api/v1/tasks/${task.id}/stop`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ requeue: false, reason: 'wrong approach' }),
    });
    const body = (await res.json()) as { verified_gone: boolean; outcome: string };
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({ outcome: 'stopped', verified_gone: true });
    expect(shimGroups(b.root)).toEqual([]);
    expect(await store.getRun(run.id)).toMatchObject({ state: 'ended', outcome: 'stopped' });
    expect(await store.getTask(task.id)).toMatchObject({ status: 'blocked' });
    // With a's serve gone (stopped: its lease left to run out), doctor in a's home says so,
    // not that "serve is running" (b's is, and a's lease still is on paper).
    serveA.proc.kill('SIGTERM');
    await serveA.exited;
    const doctor = await a.cli(['doctor']);
    expect(doctor.code, doctor.stderr).toBe(0);
    expect(doctor.stdout.split('\n')[0]).toBe(
      "this home's serve (host a) is not running; serve is running on host b, which does not watch this host's runs",
    );
  }, 120_000);

  it('a stop waiting on a paused host gives up once its lease lapses, exit 4', async () => {
    await setUp(2, ['3000', '0.2']);
    const store = shared as PgStore;
    const [a, b] = homes as [TestHome, TestHome];
    // Long enough that the CLI, started once b is paused, is waiting before the lease lapses.
    const serveB = await b.serve(serveArgs('b', '10s'));
    const task = await store.createTask({ title: 'long', assignee: 'job' }, person('ana'));
    await waitFor('the run on host b', async () =>
      (await store.listRuns(task.id)).find((r) => r.process !== null),
    );
    // Its kernel still accepts the connection; its serve never answers (the wait was 5 minutes).
    serveB.proc.kill('SIGSTOP');
    try {
      const stop = await a.cli(['stop', String(task.id)]);
      expect(stop.code, stop.stderr).toBe(4);
      expect(stop.stderr).toMatch(
        /^warden: run \d+ is on host b, whose serve stopped renewing its lease while this waited for its answer; other hosts end its runs \(host_lost\) once the lease lapses — try again then\n$/,
      );
      // Any host's home lists the hosts: b's lease has lapsed, with its run still open.
      const listed = await a.cli(['hosts', '--json']);
      expect(listed.code, listed.stderr).toBe(0);
      expect(JSON.parse(listed.stdout)).toEqual([
        expect.objectContaining({ host_id: 'b', state: 'lapsed', open_runs: 1 }),
      ]);
      expect((await a.cli(['hosts'])).stdout).toMatch(
        /^b +lease lapsed \S+ ago +http:\/\/127\.0\.0\.1:\d+ +\S+ +\S+ ago +1 +4\n/m,
      );
    } finally {
      serveB.proc.kill('SIGCONT');
    }
    // Back, it finds its lease lapsed and ends its workers itself.
    await waitFor('host b to end its workers', () => shimGroups(b.root).length === 0, 30_000);
  }, 90_000);
});
