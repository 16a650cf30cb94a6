import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createClient } from '../../src/sdk/client.js';
import type { WardenClient } from '../../src/sdk/client.js';
import { FIXTURES, TestHome, waitFor } from '../helpers/host.js';
import type { ServeProcess } from '../helpers/host.js';
import { freePort } from '../helpers/ports.js';

let home: TestHome;
const workers: ChildProcess[] = [];

afterEach(async () => {
  for (const w of workers.splice(0)) {
    if (w.exitCode === null && w.signalCode === null) {
      w.kill('SIGCONT');
      w.kill('SIGKILL');
      await new Promise((r) => w.once('exit', r));
    }
  }
  await home.cleanup();
});

interface Setup {
  url: string;
  serve: ServeProcess;
  client: WardenClient;
  token: string;
  eventsLog: string;
}

async function setup(leaseTtl: string, serveArgs: readonly string[] = []): Promise<Setup> {
  home = await new TestHome().init();
  await home.ok([
    'profile',
    'add',
    'agent',
    '--pull',
    '--backoff-base',
    '200ms',
    '--max-failures',
    '5',
  ]);
  const created = JSON.parse(
    await home.ok(['token', 'create', 'pullers', '--profile', 'agent', '--json']),
  ) as {
    token: string;
  };
  const serve = await home.serve(['--lease-ttl', leaseTtl, ...serveArgs]);
  const admin = readFileSync(join(home.root, 'admin.token'), 'utf8').trim();
  return {
    url: serve.url,
    serve,
    client: createClient({ url: serve.url, token: admin }),
    token: created.token,
    eventsLog: join(home.root, 'events.log'),
  };
}

async function startWorker(s: Setup, env: Record<string, string> = {}): Promise<ChildProcess> {
  const proc = spawn(process.execPath, [join(FIXTURES, 'sdk-worker.mjs')], {
    env: { ...home.env, WARDEN_URL: s.url, WORKER_TOKEN: s.token, EVENTS_LOG: s.eventsLog, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  workers.push(proc);
  let out = '';
  proc.stdout?.setEncoding('utf8').on('data', (c: string) => (out += c));
  await waitFor('the SDK worker to open its lease', () => out.includes('ready lease_'));
  return proc;
}

async function createMany(client: WardenClient, n: number): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < n; i += 25) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(25, n - i) }, (_, k) =>
        client.createTask({ title: `pull ${i + k}`, assignee: 'agent' }),
      ),
    );
    ids.push(...batch.map((t) => t.id));
  }
  return ids;
}

/** One worker with `env`, one task, and its handler started: the task's id and the worker. */
async function oneJobStarted(
  s: Setup,
  env: Record<string, string>,
): Promise<{ id: number; worker: ChildProcess }> {
  const worker = await startWorker(s, { CONCURRENCY: '1', ...env });
  const [id] = await createMany(s.client, 1);
  await waitFor('the handler to start', () => home.lifeLines().some((l) => l.event === 'start'));
  return { id: id ?? 0, worker };
}

async function allDone(client: WardenClient, n: number, timeoutMs = 60_000): Promise<void> {
  await waitFor(
    `${n} tasks done`,
    async () => (await client.listTasks({ statuses: ['done'], limit: 10_000 })).length === n,
    timeoutMs,
  );
}

function eventsLog(s: Setup): string[] {
  return existsSync(s.eventsLog) ? readFileSync(s.eventsLog, 'utf8').trim().split('\n') : [];
}

describe('pull workers with the SDK (SPEC §4)', () => {
  it('three worker processes pull 300 tasks: every task done exactly once', async () => {
    // No lease is meant to lapse here: a long one keeps a loaded machine's stall from ending one.
    const s = await setup('10s');
    await Promise.all([startWorker(s), startWorker(s), startWorker(s)]);
    const ids = await createMany(s.client, 300);
    await allDone(s.client, 300);
    const pids = new Set<number>();
    for (const id of ids) {
      const runs = await home.runs(id);
      expect(runs.map((r) => r.outcome)).toEqual(['completed']);
      expect(runs[0]?.mode).toBe('pull');
      const t = await home.getTask(id);
      pids.add((t.result?.metadata as { pid: number }).pid);
    }
    expect(pids.size).toBe(3);
  });

  it('a SIGKILLed worker’s runs are requeued once its lease lapses and finish elsewhere', async () => {
    const s = await setup('1s');
    const victim = await startWorker(s, { HANDLER_MS: '3000' });
    const ids = await createMany(s.client, 4);
    await waitFor(
      'the victim to start all four',
      () => home.lifeLines().filter((l) => l.event === 'start').length === 4,
    );
    victim.kill('SIGKILL');
    const killedAt = Date.now();
    await startWorker(s, { HANDLER_MS: '20' });
    await allDone(s.client, 4);
    for (const id of ids) {
      const runs = await home.runs(id);
      expect(runs.map((r) => r.outcome)).toEqual(['lease_lost', 'completed']);
      expect(runs[0]?.reason?.message).toMatch(/lapsed without a renewal/);
      // Requeued within the lease's TTL (1 s) plus the tick and the backoff (200 ms ±20 %).
      expect((runs[0]?.ended_at ?? Infinity) - killedAt).toBeLessThan(4_000);
    }
  });

  it('a worker paused past its lease gets stale_run on complete, and its handler’s signal fires', async () => {
    const s = await setup('1s');
    // The retry is short, so no stall of a loaded machine during it lapses its 1 s lease too.
    const sleeper = await startWorker(s, {
      HANDLER_MS: '2500',
      RETRY_HANDLER_MS: '20',
      CONCURRENCY: '1',
    });
    const [id] = await createMany(s.client, 1);
    await waitFor('the handler to start', () => home.lifeLines().some((l) => l.event === 'start'));
    sleeper.kill('SIGSTOP');
    await waitFor(
      'the run to end lease_lost',
      async () => (await home.runs(id ?? 0))[0]?.outcome === 'lease_lost',
    );
    sleeper.kill('SIGCONT');
    await waitFor('the stale complete and the abort', () => {
      const lines = eventsLog(s);
      return (
        lines.some((l) => l.startsWith(`aborted ${sleeper.pid}`) && l.endsWith('lease_lost')) &&
        lines.some((l) => l.includes('stale_run'))
      );
    });
    // The same worker, with a new lease, finishes the requeued task.
    await allDone(s.client, 1);
    const runs = await home.runs(id ?? 0);
    expect(runs.map((r) => r.outcome)).toEqual(['lease_lost', 'completed']);
    expect((await home.getTask(id ?? 0)).result?.summary).toBe(`done by ${sleeper.pid}`);
  });

  it('a serve stopped past its workers’ leases costs them nothing: the leases move on by the gap', async () => {
    const s = await setup('1s');
    const { id } = await oneJobStarted(s, { HANDLER_MS: '5000' });
    // Three leases' worth with serve stopped: as a suspended laptop or a held event loop is.
    s.serve.proc.kill('SIGSTOP');
    // Real time is what is tested: a stop longer than the lease, not an event to wait on.
    await new Promise((r) => setTimeout(r, 3000));
    s.serve.proc.kill('SIGCONT');
    await allDone(s.client, 1);
    expect((await home.runs(id)).map((r) => r.outcome)).toEqual(['completed']);
    expect(s.serve.output()).toMatch(
      /serve did not run for \d+\.\d s \(suspended, stopped, or its event loop held\); 1 pull lease\(s\) moved on by that/,
    );
  });

  it('a job’s progress call waits out a serve that does not answer for longer than 30 s', async () => {
    const s = await setup('1s');
    const { id } = await oneJobStarted(s, { PROGRESS_AGAIN_MS: '500', HANDLER_MS: '20' });
    s.serve.proc.kill('SIGSTOP');
    // Real time is what is tested: past the 30 s a person's call is retried for.
    await new Promise((r) => setTimeout(r, 32_000));
    s.serve.proc.kill('SIGCONT');
    await allDone(s.client, 1);
    // Not crashed: the call was not given up after 30 s and thrown into the handler.
    expect((await home.runs(id)).map((r) => r.outcome)).toEqual(['completed']);
  }, 90_000);

  it('a serve down past its workers’ leases and started again costs them nothing: each lease gets a TTL to renew in', async () => {
    const port = String(await freePort());
    const s = await setup('1s', ['--port', port]);
    const { id } = await oneJobStarted(s, { HANDLER_MS: '6000' });
    s.serve.proc.kill('SIGTERM');
    await s.serve.exited;
    // Real time is what is tested: down longer than the lease, not an event to wait on.
    await new Promise((r) => setTimeout(r, 2500));
    const again = await home.serve(['--lease-ttl', '1s', '--port', port]);
    await allDone(s.client, 1);
    expect((await home.runs(id)).map((r) => r.outcome)).toEqual(['completed']);
    expect(again.output()).toMatch(
      /1 pull lease\(s\) given 1s from now to be renewed in, as none could be while serve was down/,
    );
  });
});
