/**
 * A create call whose answer is lost is sent again (the client cannot tell a lost answer from a
 * request that never arrived), and it must not make a second task: a second task is a second
 * worker doing the same work overnight. Each caller that retries a create gives the call a key
 * of its own, so the retry finds the task the first try made. Real `serve`, real HTTP, a
 * pass-through that loses the first answer after serve has made the task.
 */
import { readFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { Task } from '../../src/core/task.js';
import { createClient } from '../../src/sdk/client.js';
import type { WardenClient } from '../../src/sdk/client.js';
import { createWorker } from '../../src/sdk/worker.js';
import type { WardenWorker } from '../../src/sdk/worker.js';
import { answerLoser, closeAnswerLosers } from '../helpers/answer-loser.js';
import { WARDEN_BIN, runWarden } from '../helpers/cli.js';
import { waitFor } from '../helpers/host.js';
import type { TestHome } from '../helpers/host.js';
import { pullHome } from '../helpers/pull-home.js';

let home: TestHome;
const workers: WardenWorker[] = [];
const clients: Client[] = [];

afterEach(async () => {
  for (const w of workers.splice(0)) await w.stop();
  for (const c of clients.splice(0)) await c.close();
  await closeAnswerLosers();
  await home.cleanup();
});

/** Every task of the board titled `title`. */
async function titled(client: WardenClient, title: string): Promise<Task[]> {
  return (await client.listTasks({ limit: 1000 })).filter((t) => t.title === title);
}

/** A run of a task of profile `noop`, claimed by hand: its token, as a worker holds it. */
async function claimedRun(
  url: string,
  client: WardenClient,
  workerToken: string,
): Promise<{ taskId: number; token: string }> {
  const task = await client.createTask({ title: 'parent', assignee: 'noop' });
  const post = async (path: string, body: unknown): Promise<unknown> => {
    const res = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${workerToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
    return res.json();
  };
  const lease = (await post('/api/v1/pull/leases', { name: 'test:1' })) as { lease_id: string };
  const claim = (await post('/api/v1/pull/claim', { lease_id: lease.lease_id, wait_ms: 5000 })) as {
    claims: { token: string; context: { task: { id: number } } }[];
  };
  expect(claim.claims.map((c) => c.context.task.id)).toEqual([task.id]);
  return { taskId: task.id, token: claim.claims[0]?.token ?? '' };
}

describe('a create whose answer is lost makes one task', () => {
  it("the SDK client's createTask", async () => {
    const made = await pullHome('noop');
    home = made.home;
    const loser = await answerLoser(made.url, '/api/v1/tasks');
    const admin = readFileSync(`${home.root}/admin.token`, 'utf8').trim();
    const through = createClient({ url: loser.url, token: admin });
    const task = await through.createTask({ title: 'once', assignee: 'noop' });
    expect(loser.tries()).toBe(2);
    const all = await titled(made.client, 'once');
    expect(all.map((t) => t.id)).toEqual([task.id]);
    // A key of the caller's own is kept as given.
    const keyed = await through.createTask({ title: 'keyed', idempotency_key: 'mine-1' });
    expect(keyed.idempotency_key).toBe('mine-1');
  });

  it("a pull job's createTask", async () => {
    const made = await pullHome('noop');
    home = made.home;
    const loser = await answerLoser(made.url, '/api/v1/worker/create');
    const parent = await made.client.createTask({ title: 'parent', assignee: 'noop' });
    const worker = createWorker({
      url: loser.url,
      token: made.workerToken,
      claimWaitMs: 200,
      handler: async (job) => {
        if (job.task.title !== 'parent') return { summary: 'child' };
        const child = await job.createTask({ title: 'child', after_me: true });
        return { summary: `made ${child.id}` };
      },
    });
    workers.push(worker);
    await worker.start();
    await waitFor('the parent to be done', async () =>
      (await made.client.getTask(parent.id)).status === 'done' ? true : undefined,
    );
    expect(loser.tries()).toBe(2);
    const children = await titled(made.client, 'child');
    expect(children).toHaveLength(1);
    expect((await made.client.getTask(parent.id)).result?.summary).toBe(`made ${children[0]?.id}`);
  });

  it('warden worker create', async () => {
    const made = await pullHome('noop');
    home = made.home;
    const run = await claimedRun(made.url, made.client, made.workerToken);
    const loser = await answerLoser(made.url, '/api/v1/worker/create');
    const r = await runWarden(['worker', 'create', 'child', '--json'], {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      WARDEN_URL: loser.url,
      WARDEN_RUN_TOKEN: run.token,
      WARDEN_TASK_ID: String(run.taskId),
    });
    expect(r.code, r.stderr).toBe(0);
    expect(loser.tries()).toBe(2);
    const children = await titled(made.client, 'child');
    expect(children.map((t) => t.id)).toEqual([(JSON.parse(r.stdout) as Task).id]);
  });

  it("the MCP server's warden_create", async () => {
    const made = await pullHome('noop');
    home = made.home;
    const run = await claimedRun(made.url, made.client, made.workerToken);
    const loser = await answerLoser(made.url, '/api/v1/worker/create');
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [WARDEN_BIN, 'mcp'],
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        WARDEN_URL: loser.url,
        WARDEN_RUN_TOKEN: run.token,
        WARDEN_TASK_ID: String(run.taskId),
      },
      stderr: 'pipe',
    });
    const mcp = new Client({ name: 'warden-test', version: '1.0.0' });
    await mcp.connect(transport);
    clients.push(mcp);
    const result = await mcp.callTool({ name: 'warden_create', arguments: { title: 'child' } });
    expect(result.isError ?? false).toBe(false);
    expect(loser.tries()).toBe(2);
    expect(await titled(made.client, 'child')).toHaveLength(1);
  });
});
