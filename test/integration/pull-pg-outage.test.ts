/**
 * A PostgreSQL outage longer than a pull worker's lease: no worker can renew through any
 * `serve` meanwhile, so none loses its lease for it. A private server of the test's own is
 * stopped and started (the machine's server stays up for the other tests).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createClient } from '../../src/sdk/client.js';
import { FIXTURES, waitFor } from '../helpers/host.js';
import type { TestHome } from '../helpers/host.js';
import { pgHomes } from '../helpers/hosts.js';
import { PrivatePg } from '../helpers/private-pg.js';

const URL = process.env.WARDEN_TEST_PG_URL;
if (!URL && process.env.CI) {
  throw new Error('WARDEN_TEST_PG_URL is not set: CI must run the PostgreSQL tests');
}

let pg: PrivatePg | null = null;
let home: TestHome | null = null;
let worker: ChildProcess | null = null;
let scratch = '';

afterEach(async () => {
  if (worker && worker.exitCode === null && worker.signalCode === null) {
    worker.kill('SIGKILL');
    await new Promise((r) => worker?.once('exit', r));
  }
  worker = null;
  await home?.cleanup();
  home = null;
  pg?.destroy();
  pg = null;
  if (scratch !== '') rmSync(scratch, { recursive: true, force: true });
});

describe.skipIf(!URL)('pull workers through a PostgreSQL outage', () => {
  it('a store away longer than the lease costs a live worker nothing: its lease gets a TTL once the store answers', async () => {
    pg = await PrivatePg.create();
    scratch = mkdtempSync(join(tmpdir(), 'warden-pull-pg-'));
    const lifeLog = join(scratch, 'life.log');
    const [h] = await pgHomes(pg.url, `pull_${process.pid}_${Date.now()}`, 1, lifeLog);
    if (!h) throw new Error('no home made');
    home = h;
    await h.ok(['profile', 'add', 'agent', '--pull', '--backoff-base', '200ms']);
    const { token } = JSON.parse(
      await h.ok(['token', 'create', 'pullers', '--profile', 'agent', '--json']),
    ) as { token: string };
    const serve = await h.serve(['--lease-ttl', '1s']);
    const admin = readFileSync(join(h.root, 'admin.token'), 'utf8').trim();
    const client = createClient({ url: serve.url, token: admin });

    worker = spawn(process.execPath, [join(FIXTURES, 'sdk-worker.mjs')], {
      env: {
        ...h.env,
        WARDEN_URL: serve.url,
        WORKER_TOKEN: token,
        LIFE_LOG: lifeLog,
        HANDLER_MS: '8000',
        CONCURRENCY: '1',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const { id } = await client.createTask({ title: 'through the outage', assignee: 'agent' });
    await waitFor(
      'the handler to start',
      () => existsSync(lifeLog) && readFileSync(lifeLog, 'utf8').includes('start'),
    );

    pg.stop();
    // Real time is what is tested: an outage four leases long, not an event to wait on.
    await new Promise((r) => setTimeout(r, 4000));
    pg.start();

    const done = await waitFor(
      'the task done',
      async () => {
        const t = await client.getTask(id);
        return t.status === 'done' ? t : undefined;
      },
      60_000,
    );
    expect(done.runs.map((r) => r.outcome)).toEqual(['completed']);
    expect(serve.output()).toMatch(
      /the store answers again: 1 pull lease\(s\) given 1s from now to be renewed in/,
    );
  }, 120_000);
});
