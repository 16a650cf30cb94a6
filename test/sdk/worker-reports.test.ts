/**
 * A pull worker's results ride its next claim (issue #16): one request per task instead of
 * two, against a real `warden serve`. Between the two sits a recording pass-through (real
 * HTTP both ways) that can lose an answer on the way back, or answer for a `serve` too old to
 * know `reports`, to show that no result is lost and none is counted twice.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { TaskDetail, WardenClient } from '../../src/sdk/client.js';
import { createWorker } from '../../src/sdk/worker.js';
import type { WardenWorker } from '../../src/sdk/worker.js';
import { waitFor } from '../helpers/host.js';
import type { TestHome } from '../helpers/host.js';
import { closePassThroughs, passThrough } from '../helpers/claim-pass-through.js';
import { pullHome } from '../helpers/pull-home.js';
import type { PullHome } from '../helpers/pull-home.js';

let home: TestHome;
const workers: WardenWorker[] = [];

afterEach(async () => {
  for (const w of workers.splice(0)) await w.stop();
  await closePassThroughs();
  await home.cleanup();
});

/** A home with a pull profile `noop`, its worker token, a serve and an admin client. */
async function setUp(): Promise<PullHome> {
  const made = await pullHome('noop');
  home = made.home;
  return made;
}

async function allDone(client: WardenClient, ids: readonly number[]): Promise<TaskDetail[]> {
  return waitFor(`tasks ${ids.join(', ')} to be done`, async () => {
    const tasks = await Promise.all(ids.map((id) => client.getTask(id)));
    return tasks.every((t) => t.status === 'done') ? tasks : undefined;
  });
}

function start(url: string, token: string, errors: Error[] = []): WardenWorker {
  const worker = createWorker({
    url,
    token,
    claimWaitMs: 200,
    onError: (err) => errors.push(err),
    handler: (job) => Promise.resolve({ summary: `did ${job.task.title}` }),
  });
  workers.push(worker);
  return worker;
}

describe('a pull worker reports on its next claim (issue #16)', () => {
  it('sends each result on the claim its freed slot starts: one request per task', async () => {
    const { url, client, workerToken } = await setUp();
    const proxy = await passThrough(url, 'none');
    const ids: number[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await client.createTask({ title: `t${i}`, assignee: 'noop' })).id);
    await start(proxy.url, workerToken).start();
    const tasks = await allDone(client, ids);
    expect(tasks.map((t) => t.result?.summary)).toEqual(ids.map((_, i) => `did t${i}`));
    expect(proxy.seen.filter((s) => s.path.startsWith('/api/v1/worker/'))).toEqual([]);
    const carried = proxy.seen.flatMap((s) => s.reports.map((r) => r.summary));
    expect(carried).toEqual(ids.map((_, i) => `did t${i}`));
  });

  it('sends a result again when the answer to the claim carrying it is lost, and it counts once', async () => {
    const { url, client, workerToken } = await setUp();
    const proxy = await passThrough(url, 'lose-first-answer');
    const errors: Error[] = [];
    const task = await client.createTask({ title: 'once', assignee: 'noop' });
    await start(proxy.url, workerToken, errors).start();
    await allDone(client, [task.id]);
    // serve took the report the first time; the worker, told nothing, sent it again.
    await waitFor('the report to be sent again', () =>
      proxy.seen.filter((s) => s.reports.some((r) => r.summary === 'did once')).length >= 2
        ? true
        : undefined,
    );
    await workers[0]?.stop();
    const done = await client.getTask(task.id);
    expect(done.result?.summary).toBe('did once');
    expect(done.runs.map((r) => [r.state, r.outcome])).toEqual([['ended', 'completed']]);
    expect(done.counters).toMatchObject({ failures: 0 });
    const events = await client.events({ task: task.id, limit: 100 });
    expect(events.filter((e) => e.kind === 'run_ended')).toHaveLength(1);
  });

  it("claims again with the same id when a claim's answer is lost, and gets the same run", async () => {
    const { url, client, workerToken } = await setUp();
    const proxy = await passThrough(url, 'lose-first-claimed');
    const task = await client.createTask({ title: 'held', assignee: 'noop' });
    await start(proxy.url, workerToken).start();
    const [done] = await allDone(client, [task.id]);
    // Without the id, the lost answer's run would belong to a live lease that nobody works
    // for, and the task would wait for it to stall.
    expect(done?.runs.map((r) => [r.state, r.outcome])).toEqual([['ended', 'completed']]);
    const claims = proxy.seen.filter((s) => s.path === '/api/v1/pull/claim');
    expect(claims[1]?.claimId).toBe(claims[0]?.claimId);
  });

  it('sends a result again on its own when serve says it could not take it on the claim', async () => {
    const { url, client, workerToken } = await setUp();
    const proxy = await passThrough(url, 'fail-first-reports');
    const ids: number[] = [];
    for (let i = 0; i < 2; i++)
      ids.push((await client.createTask({ title: `t${i}`, assignee: 'noop' })).id);
    await start(proxy.url, workerToken).start();
    const tasks = await allDone(client, ids);
    expect(tasks.map((t) => t.result?.summary)).toEqual(['did t0', 'did t1']);
    // The first result's claim was answered "again"; it then went alone, to its own route.
    expect(proxy.seen.find((s) => s.failed !== undefined)?.reports[0]?.summary).toBe('did t0');
    expect(proxy.seen.filter((s) => s.path === '/api/v1/worker/complete')).toHaveLength(1);
    expect(tasks[0]?.runs.map((r) => r.outcome)).toEqual(['completed']);
  });

  it('goes back to plain claims and a request per result when serve is too old for either', async () => {
    const { url, client, workerToken } = await setUp();
    const proxy = await passThrough(url, 'refuse-as-old-serve');
    const errors: Error[] = [];
    const ids: number[] = [];
    for (let i = 0; i < 3; i++)
      ids.push((await client.createTask({ title: `t${i}`, assignee: 'noop' })).id);
    await start(proxy.url, workerToken, errors).start();
    await allDone(client, ids);
    // The first claim was refused; every later one was sent as that serve knows them, and
    // every result went alone.
    const claims = proxy.seen.filter((s) => s.path === '/api/v1/pull/claim');
    expect(claims[0]?.claimId).toBeDefined();
    const newer = claims.slice(1).filter((s) => s.claimId !== undefined || s.reports.length > 0);
    expect(newer).toEqual([]);
    expect(proxy.seen.filter((s) => s.path === '/api/v1/worker/complete')).toHaveLength(3);
    expect(errors.map((e) => e.message)).toEqual(['claim_id: unrecognized key']);
  });
});
