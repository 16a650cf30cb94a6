/**
 * The SDK client's person-in-the-loop methods (issue #14) against a real `warden serve`: answer,
 * request-changes and approve on a task worked by a real SDK pull worker, an approval gate, a
 * task graph applied twice, and a bulk action, each refusal a `WardenError` with its code.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WardenError } from '../../src/core/errors.js';
import type { Task } from '../../src/core/task.js';
import type { WardenClient } from '../../src/sdk/client.js';
import { createWorker } from '../../src/sdk/worker.js';
import type { WardenWorker } from '../../src/sdk/worker.js';
import { waitFor } from '../helpers/host.js';
import type { TestHome } from '../helpers/host.js';
import { pullHome } from '../helpers/pull-home.js';
import type { PullHome } from '../helpers/pull-home.js';

let home: TestHome;
const workers: WardenWorker[] = [];

afterEach(async () => {
  for (const w of workers.splice(0)) await w.stop();
  await home.cleanup();
});

/** A home with a pull profile `painter`, its worker token, a serve and an admin client. */
async function setUp(): Promise<PullHome> {
  const made = await pullHome('painter', ['--backoff-base', '200ms']);
  home = made.home;
  return made;
}

/** The `WardenError` code a call is refused with. */
async function refusal(call: Promise<unknown>): Promise<string> {
  try {
    await call;
  } catch (err) {
    if (err instanceof WardenError) return err.code;
    throw err;
  }
  throw new Error('the call was not refused');
}

async function waitStatus(client: WardenClient, id: number, status: string): Promise<Task> {
  return waitFor(`task ${id} to be ${status}`, async () => {
    const t = await client.getTask(id);
    return t.status === status ? t : undefined;
  });
}

describe('the SDK client: a person in the loop (issue #14)', () => {
  it("answers a worker's question, requests changes of a review and approves it; gates a task on approval", async () => {
    const { url, client, workerToken } = await setUp();

    // An approval gate and a start time pass through createTask.
    const later = Date.now() + 3_600_000;
    const gated = await client.createTask({
      title: 'deploy',
      assignee: 'painter',
      needs_approval: true,
      not_before: later,
    });
    expect(gated.approval).toEqual({ required: true, by: null, at: null });
    expect(gated.not_before).toBe(later);
    const approved = await client.approve(gated.id);
    expect(approved.approval.by).toEqual(expect.any(String));
    expect(approved.approval.at).toEqual(expect.any(Number));
    // It waits for no approval now: approving again is refused and changes nothing.
    expect(await refusal(client.approve(gated.id))).toBe('illegal_state');

    const shed = await client.createTask({ title: 'paint the shed', assignee: 'painter' });
    expect(await refusal(client.answer(shed.id, 'blue'))).toBe('illegal_state');
    expect(await refusal(client.requestChanges(shed.id, 'more'))).toBe('illegal_state');

    // A real SDK pull worker: asks on attempt 1, then works from the answer and the review.
    workers.push(
      createWorker({
        url,
        token: workerToken,
        claimWaitMs: 1_000,
        handler: async (job) => {
          if (job.attempt === 1) {
            await job.ask('which colour?');
            return;
          }
          const answer = job.context.questions[0]?.answer ?? '?';
          const review = job.context.reviews[0];
          return {
            summary: review ? `painted ${answer}, ${review.body}` : `painted ${answer}`,
            review: true,
          };
        },
      }),
    );
    await workers[0]?.start();

    const asked = await waitStatus(client, shed.id, 'blocked');
    expect(asked).toMatchObject({
      block_kind: 'needs_input',
      block_reason: 'question: which colour?',
    });
    const answered = await client.answer(shed.id, 'blue');
    expect(['ready', 'running']).toContain(answered.status);

    const first = await waitStatus(client, shed.id, 'review');
    expect(first.result?.summary).toBe('painted blue');
    const sentBack = await client.requestChanges(shed.id, 'two coats');
    expect(['ready', 'running']).toContain(sentBack.status);

    const second = await waitStatus(client, shed.id, 'review');
    expect(second.result?.summary).toBe('painted blue, two coats');
    expect((await client.approve(shed.id)).status).toBe('done');
    const kinds = (await client.events({ task: shed.id })).map((e) => e.kind);
    expect(kinds).toContain('task_answered');
  });

  it('applies a task graph (a dry run, then twice creating nothing new) and moves tasks in bulk', async () => {
    const { client } = await setUp();
    const graph = {
      name: 'release-42',
      tasks: [
        { name: 'design', title: 'Design the API', assignee: 'painter' },
        { name: 'build', title: 'Build it', after: ['design'] },
        { name: 'docs', title: 'Document it', after: ['design'] },
      ],
    };

    const dry = await client.apply(graph, { dryRun: true });
    expect(dry).toMatchObject({ dry_run: true, created: 3, existing: 0 });
    expect(dry.tasks.map((t) => t.id)).toEqual([null, null, null]);
    expect(await client.listTasks()).toEqual([]);

    const applied = await client.apply(graph);
    expect(applied).toMatchObject({ graph: 'release-42', dry_run: false, created: 3 });
    const ids = applied.tasks.map((t) => t.id);
    expect(applied.tasks.map((t) => [t.name, t.status])).toEqual([
      ['design', 'ready'],
      ['build', 'todo'],
      ['docs', 'todo'],
    ]);
    const again = await client.apply(graph);
    expect(again).toMatchObject({ created: 0, existing: 3 });
    expect(again.tasks.map((t) => t.id)).toEqual(ids);

    // A cycle refuses the whole graph: nothing is created.
    const cyclic = {
      tasks: [
        { name: 'a', title: 'A', after: ['b'] },
        { name: 'b', title: 'B', after: ['a'] },
      ],
    };
    expect(await refusal(client.apply(cyclic))).toBe('invalid');
    expect(await client.listTasks({ limit: 100 })).toHaveLength(3);

    // Bulk: a dry run by default, then the change; no filter at all is refused.
    const [, build, docs] = ids as [number, number, number];
    await client.block(build, 'waits for the vendor', 'dependency');
    await client.block(docs, 'waits for the vendor', 'dependency');
    const preview = await client.bulk('unblock', { kinds: ['dependency'] });
    expect(preview).toMatchObject({ verb: 'unblock', dry_run: true, matched: 2, changed: 0 });
    expect(preview.tasks.map((t) => t.result)).toEqual(['would_change', 'would_change']);
    expect((await client.getTask(build)).status).toBe('blocked');
    const done = await client.bulk('unblock', { kinds: ['dependency'] }, { dryRun: false });
    expect(done).toMatchObject({ dry_run: false, matched: 2, changed: 2, refused: 0 });
    expect((await client.getTask(build)).status).toBe('todo');
    expect(await refusal(client.bulk('archive', {}))).toBe('invalid');
  });
});
