import { afterEach, describe, expect, it } from 'vitest';
import { TestHome, fixture } from '../helpers/host.js';

let home: TestHome;
afterEach(async () => {
  await home.cleanup();
});

describe('work that becomes ready wakes the dispatcher at once (SPEC §4 "Latency")', () => {
  it('a task created by another process starts long before the fallback tick', async () => {
    home = await new TestHome().init();
    await home.profile('quick', fixture('short-job.sh', '0.1'));
    // A 30 s tick: anything that starts sooner was woken, not ticked.
    const serve = await home.serve(['--tick', '30s']);
    const first = await home.task('one', ['--assignee', 'quick']);
    const done = await home.waitStatus(first, 'done', 10_000);
    const [run] = await home.runs(first);
    expect((run?.started_at ?? Infinity) - done.created_at).toBeLessThan(5_000);

    // A task created over HTTP commits on serve's own connection: it wakes the dispatcher too.
    const { createClient } = await import('../../src/sdk/client.js');
    const { readFileSync } = await import('node:fs');
    const admin = readFileSync(`${home.root}/admin.token`, 'utf8').trim();
    const viaApi = await createClient({ url: serve.url, token: admin }).createTask({
      title: 'via http',
      assignee: 'quick',
    });
    const apiDone = await home.waitStatus(viaApi.id, 'done', 10_000);
    const [apiRun] = await home.runs(viaApi.id);
    expect((apiRun?.started_at ?? Infinity) - apiDone.created_at).toBeLessThan(5_000);

    // A child made ready when its parent finishes starts without a tick too.
    const parent = await home.task('parent', ['--assignee', 'quick']);
    const child = await home.task('child', ['--assignee', 'quick', '--parent', String(parent)]);
    await home.waitStatus(child, 'done', 10_000);
    const parentRun = (await home.runs(parent))[0];
    const childRun = (await home.runs(child))[0];
    expect((childRun?.started_at ?? Infinity) - (parentRun?.ended_at ?? 0)).toBeLessThan(5_000);
  });
});
