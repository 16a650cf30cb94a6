/*
 * A host whose PostgreSQL connections are all cut off without a word mid-run (a failover to
 * another address, a NAT that forgot them): real `warden serve`, real workers, a real
 * PostgreSQL behind a real TCP proxy that cuts them. Its dead connections are found and closed
 * in seconds and new ones opened, so its lease is renewed in time: no worker freezes, nothing
 * is reaped, and every run completes once. Without that, a renewal waits on a dead connection
 * until the kernel gives it up (about 15 minutes), and every worker is frozen at 25 s and
 * killed at 115 s.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { person } from '../../src/core/actor.js';
import type { PgStore } from '../../src/store/postgres/open.js';
import { blackholeProxy } from '../helpers/blackhole-proxy.js';
import type { BlackholeProxy } from '../helpers/blackhole-proxy.js';
import { FIXTURES, INHERIT_FIXTURE_ENV, waitFor } from '../helpers/host.js';
import type { TestHome } from '../helpers/host.js';
import {
  killWorkers,
  longestPause,
  openShared,
  overlaps,
  pgHomes,
  shimGroups,
  workerLives,
} from '../helpers/hosts.js';
import { PG_URL, freshPgSchema } from '../helpers/pg-schemas.js';

let home: TestHome | null = null;
let shared: PgStore | null = null;
let proxy: BlackholeProxy | null = null;
let scratch = '';

afterEach(async () => {
  const leaked = home ? shimGroups(home.root) : [];
  if (home) killWorkers(home.root);
  await home?.cleanup();
  home = null;
  await shared?.close();
  shared = null;
  await proxy?.close();
  proxy = null;
  if (scratch !== '') rmSync(scratch, { recursive: true, force: true });
  expect(leaked, 'worker process groups left running').toEqual([]);
});

describe.skipIf(!PG_URL)('a host whose PostgreSQL connections are cut off', () => {
  it('opens new ones in seconds: no worker freezes, nothing is reaped, every run completes once', async () => {
    const url = PG_URL ?? '';
    const schema = freshPgSchema();
    scratch = mkdtempSync(join(tmpdir(), 'warden-cut-off-'));
    const lifeLog = join(scratch, 'life.log');
    proxy = await blackholeProxy(url);
    // The host reaches PostgreSQL only through the proxy; the test itself goes direct.
    [home] = (await pgHomes(proxy.url, schema, 1, lifeLog)) as [TestHome];
    shared = await openShared(url, schema);
    // Each job beats every 200 ms for about 30 s: the cut falls inside every run, and a frozen
    // worker (25 s after the last renewal) would show as a long pause.
    await home.ok([
      'profile',
      'add',
      'job',
      ...INHERIT_FIXTURE_ENV,
      '--no-check',
      '--',
      'sh',
      join(FIXTURES, 'beating-job.sh'),
      '150',
      '0.2',
    ]);
    const ana = person('ana');
    for (let i = 0; i < 4; i++)
      await shared.createTask({ title: `long ${i}`, assignee: 'job' }, ana);
    const serve = await home.serve(['--host-id', 'a', '--max-workers', '4']);
    const h = home;
    await waitFor('four workers running', () => shimGroups(h.root).length === 4, 30_000);

    proxy.blackhole();
    const cutAt = Date.now();
    const store = shared;
    await waitFor(
      'every task done',
      async () => ((await store.countTasks('default'))['done'] ?? 0) === 4,
      120_000,
    );

    for (const t of await store.listTasks({ limit: 100 }))
      expect((await store.listRuns(t.id)).map((r) => r.outcome)).toEqual(['completed']);
    expect(await store.listEvents({ kinds: ['host_lost'] })).toEqual([]);
    const found = serve
      .output()
      .split('\n')
      .filter((l) => /heard nothing for/.test(l));
    expect(found.join('\n')).toMatch(/heard nothing for [\d.]+s and its server process/);
    const longest = longestPause(lifeLog);
    process.stdout.write(
      `connections cut at ${new Date(cutAt).toISOString()}; connections opened through the proxy: ${proxy.opened()}; the longest pause of any worker: ${longest} ms (beats every 200 ms); host_lost: 0; serve said:\n${found.join('\n')}\n`,
    );
    // Far below the 25 s after which a host that cannot renew freezes its workers.
    expect(longest).toBeLessThan(10_000);
    expect(overlaps(workerLives(lifeLog))).toEqual([]);
  }, 240_000);
});
