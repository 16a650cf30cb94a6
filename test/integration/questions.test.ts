import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Task } from '../../src/core/task.js';
import type { WorkerContext } from '../../src/core/worker-protocol.js';
import { TestHome, fixture } from '../helpers/host.js';

let home: TestHome;
afterEach(async () => {
  await home.cleanup();
});

/** The worker context attempt 2 of a task saved in its workspace (ask-then-work.sh). */
function savedContext(h: TestHome, id: number): WorkerContext {
  const file = join(h.root, 'workspaces', String(id), 'context-2.json');
  return JSON.parse(readFileSync(file, 'utf8')) as WorkerContext;
}

/** The admin token's header, for the HTTP API. */
function auth(h: TestHome): Record<string, string> {
  const token = readFileSync(join(h.root, 'admin.token'), 'utf8').trim();
  return { authorization: `Bearer ${token}` };
}

describe('a person in the loop (issue #14)', () => {
  it("a worker's question reaches a person and the answer tops the next attempt's context", async () => {
    home = await new TestHome().init();
    await home.profile('asker', fixture('ask-then-work.sh', 'ask', 'which colour?'));
    const id = await home.task('paint the shed', ['--assignee', 'asker']);
    await home.serve();

    const blocked = await home.waitStatus(id, 'blocked');
    expect(blocked).toMatchObject({
      block_kind: 'needs_input',
      block_rule: 'question',
      block_reason: 'question: which colour?',
    });
    // The card says what it asks and the one step that clears it.
    // The command is never cut, however long the note (it went past the column's 60 before).
    expect(await home.ok(['list'])).toContain(
      `asks (needs_input): question: which colour? — \`warden answer ${id} TEXT\``,
    );

    // An answer to a task that asked nothing is refused, and changes nothing.
    const other = await home.task('nothing asked');
    const refused = await home.cli(['answer', String(other), 'blue']);
    expect(refused.code).toBe(4);
    expect(refused.stderr.trim()).toMatch(/^warden: task \d+ asked nothing to answer/);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);

    await home.ok(['answer', String(id), 'blue, like the sky']);
    const done = await home.waitStatus(id, 'done');
    expect(done.result?.summary).toBe('done on attempt 2');
    const workspace = join(home.root, 'workspaces', String(id));
    const prompt = readFileSync(join(workspace, 'prompt-2.txt'), 'utf8');
    // The answer comes before the task itself.
    expect(prompt.indexOf('blue, like the sky')).toBeGreaterThan(0);
    expect(prompt.indexOf('blue, like the sky')).toBeLessThan(prompt.indexOf('# paint the shed'));
    expect(savedContext(home, id).questions[0]).toMatchObject({
      question: 'which colour?',
      answer: 'blue, like the sky',
    });
    expect((await home.events(id)).map((e) => e.kind)).toContain('task_answered');
    // The answer is read back where a person looks: `show`, and `show --json`.
    const shown = await home.ok(['show', String(id)]);
    expect(shown).toMatch(
      /\nquestions \(newest first\):\n {2}\S+ \S+ run \d+ asked: which colour\?\n {4}\S+ \S+ person:tester answered: blue, like the sky\n/,
    );
    const json = JSON.parse(await home.ok(['show', String(id), '--json'])) as {
      questions: { question: string; answer: string | null; answered_by: string | null }[];
    };
    expect(json.questions).toMatchObject([
      { question: 'which colour?', answer: 'blue, like the sky', answered_by: 'person:tester' },
    ]);
  }, 60_000);

  it('a question a person moves past without answering is named as not answered in the next prompt', async () => {
    home = await new TestHome().init();
    await home.profile('asker', fixture('ask-then-work.sh', 'ask', 'which colour?'));
    const id = await home.task('paint the shed', ['--assignee', 'asker']);
    await home.serve();
    await home.waitStatus(id, 'blocked');
    await home.ok(['unblock', String(id)]);
    expect((await home.waitStatus(id, 'done')).result?.summary).toBe('done on attempt 2');
    const prompt = readFileSync(join(home.root, 'workspaces', String(id), 'prompt-2.txt'), 'utf8');
    expect(prompt).toMatch(
      /## Questions asked on this task that were not answered\n\n- Q: which colour\?\nA person put the task back in line without answering\./,
    );
    expect(prompt.indexOf('which colour?')).toBeLessThan(prompt.indexOf('# paint the shed'));
    expect(prompt).not.toContain('## Answers to questions');
    expect(await home.ok(['show', String(id)])).toMatch(
      /asked: which colour\?\n {4}not answered\n/,
    );
  }, 60_000);

  it('a waiting card says what holds it: "held by #8 (blocked)"', async () => {
    home = await new TestHome().init();
    const parent = await home.task('get the key');
    const done = await home.task('read the spec');
    await home.ok(['block', String(parent), '--reason', 'no key yet']);
    await home.ok(['done', String(done)]);
    const child = await home.task('deploy', ['--parent', String(parent), '--parent', String(done)]);
    const line = (await home.ok(['list'])).split('\n').find((l) => l.startsWith(`${child} `));
    expect(line).toContain(`held by #${parent} (blocked)`);
    expect(line).not.toContain(`#${done}`);
    // Only the child listed: its parent's status is read all the same.
    const only = await home.ok(['list', '--status', 'todo']);
    expect(only).toContain(`held by #${parent} (blocked)`);
  });

  it('a ready card held by its paused profile says so, and the way out', async () => {
    home = await new TestHome().init();
    await home.profile('p', fixture('short-job.sh', '0.1'));
    const id = await home.task('waits for p', ['--assignee', 'p']);
    await home.ok(['profile', 'pause', 'p']);
    const note = `held: profile p is paused by a person — \`warden profile resume p\``;
    const line = (await home.ok(['list'])).split('\n').find((l) => l.startsWith(`${id} `));
    expect(line).toContain(note);
    expect(await home.ok(['board', 'show'])).toContain(note);
    await home.ok(['profile', 'resume', 'p']);
    expect(await home.ok(['list'])).not.toContain('held: profile');
  });

  it('a person who unblocks a task at max_review_rounds gives it its rounds again', async () => {
    home = await new TestHome().init();
    // Every attempt asks for a review; the second request for changes blocks the task.
    await home.profile(
      'drafter',
      ['sh', '-c', 'warden worker request-review --summary "draft $WARDEN_ATTEMPT"'],
      ['--max-review-rounds', '2'],
    );
    const id = await home.task('write the docs', ['--assignee', 'drafter']);
    await home.serve();
    const changes = async (): Promise<Task> => {
      await home.waitStatus(id, 'review');
      return JSON.parse(
        await home.ok(['request-changes', String(id), '--reason', 'shorter', '--json']),
      ) as Task;
    };
    expect((await changes()).status).not.toBe('blocked');
    expect(await changes()).toMatchObject({ status: 'blocked', block_rule: 'review_rounds' });
    await home.ok(['unblock', String(id)]);
    // Round 1 again, not a third round past the limit.
    expect((await changes()).status).not.toBe('blocked');
    expect(await changes()).toMatchObject({ status: 'blocked', block_rule: 'review_rounds' });
    expect((await home.getTask(id)).counters.attempts).toBe(4);
  }, 60_000);

  it('approval gates and reviews over the HTTP API', async () => {
    home = await new TestHome().init();
    await home.profile('quick', fixture('short-job.sh', '0.1'));
    const gated = await home.task('deploy', ['--assignee', 'quick', '--needs-approval']);
    const serve = await home.serve();
    // Nothing starts it while it waits for approval.
    expect(await home.ok(['list'])).toContain(`waiting for approval: \`warden approve ${gated}\``);
    const api = (path: string, body?: unknown): Promise<Response> =>
      fetch(`${serve.url}/api/v1${path}`, {
        method: 'POST',
        headers: {
          ...auth(home),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });

    const approved = await api(`/tasks/${gated}/approve`);
    expect(approved.status).toBe(200);
    expect(await approved.json()).toMatchObject({
      approval: { required: true, by: expect.stringMatching(/^person:/) as unknown },
    });
    expect((await home.waitStatus(gated, 'done')).counters.attempts).toBe(1);

    // A review round trip: the changes requested reach the next attempt's context first.
    await home.ok(['profile', 'add', 'drafter', '--', ...fixture('ask-then-work.sh', 'review')]);
    const drafted = await home.task('write the docs', ['--assignee', 'drafter']);
    await home.waitStatus(drafted, 'review');
    const changes = await api(`/tasks/${drafted}/request-changes`, { reason: 'shorter, please' });
    expect(changes.status).toBe(200);
    expect((await home.waitStatus(drafted, 'done')).result?.summary).toBe('done on attempt 2');
    const workspace = join(home.root, 'workspaces', String(drafted));
    expect(savedContext(home, drafted).reviews[0]).toMatchObject({
      verdict: 'changes_requested',
      body: 'shorter, please',
    });
    const prompt = readFileSync(join(workspace, 'prompt-2.txt'), 'utf8');
    expect(prompt).toMatch(/## Changes requested in review[^\n]*\n\nshorter, please/);

    // Approving a task in review makes it done; one neither gated nor in review is 409.
    const second = await home.task('write more docs', ['--assignee', 'drafter']);
    await home.waitStatus(second, 'review');
    expect((await api(`/tasks/${second}/approve`)).status).toBe(200);
    expect((await home.getTask(second)).status).toBe('done');
    const wrong = await api(`/tasks/${second}/approve`);
    expect(wrong.status).toBe(409);
    expect(await wrong.json()).toMatchObject({ error: { code: 'illegal_state' } });
    expect((await api(`/tasks/${second}/request-changes`, { reason: 'x' })).status).toBe(409);
    expect((await api(`/tasks/${second}/answer`, { answer: '' })).status).toBe(400);
  }, 60_000);
});
