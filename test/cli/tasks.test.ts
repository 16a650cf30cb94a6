import { describe, expect, it } from 'vitest';
import type { WardenEvent } from '../../src/core/events.js';
import type { Run } from '../../src/core/run.js';
import type { BoardStats, Comment, Task } from '../../src/core/task.js';
import type { Board } from '../../src/store/store.js';
import type { WorktreeRecord } from '../../src/core/worktree.js';
import { expectError, sharedHome } from '../helpers/cli.js';
import type { QuestionAnswer } from '../../src/core/worker-protocol.js';
import type { Cli } from '../helpers/cli.js';

type ShownTask = Task & {
  comments: Comment[];
  questions: QuestionAnswer[];
  runs: Run[];
  worktree: WorktreeRecord | null;
};

const TASK_FIELDS = [
  'id',
  'board',
  'title',
  'body',
  'assignee',
  'priority',
  'status',
  'not_before',
  'parents',
  'children',
  'counters',
  'result',
  'block_reason',
  'block_kind',
  'policy',
  'current_run_id',
  'created_by',
  'created_by_task',
  'idempotency_key',
  'created_at',
  'updated_at',
] as const satisfies readonly (keyof Task)[];

const ZERO_COUNTERS = {
  attempts: 0,
  failures: 0,
  stall_streak: 0,
  rate_limited_streak: 0,
  spawn_failures: 0,
  host_losses: 0,
};

async function create(cli: Cli, title: string, ...options: string[]): Promise<Task> {
  return cli.json<Task>(['create', title, ...options]);
}

async function show(cli: Cli, id: number): Promise<ShownTask> {
  return cli.json<ShownTask>(['show', String(id)]);
}

async function move(cli: Cli, verb: string, id: number, ...options: string[]): Promise<Task> {
  return cli.json<Task>([verb, String(id), ...options]);
}

describe.concurrent('create and show', () => {
  const cli = sharedHome({ name: 'alice' });

  it('show --json returns every field create --json returned', async () => {
    await cli().json(['profile', 'add', 'agent', '--', '/bin/echo', 'hi']);
    const parent = await create(cli(), 'Design the schema');
    const body = 'Write the migrations.\nLine two, with "quotes" and ünïcödé.';
    const created = await create(
      cli(),
      'Write the migrations',
      '--body',
      body,
      '--assignee',
      'agent',
      '--parent',
      String(parent.id),
      '--priority',
      '7',
      '--stall-timeout',
      '10m',
      '--idempotency-key',
      'round-trip-1',
    );
    expect(created).toMatchObject({
      board: 'default',
      title: 'Write the migrations',
      body,
      assignee: 'agent',
      priority: 7,
      status: 'todo',
      not_before: null,
      parents: [parent.id],
      children: [],
      counters: ZERO_COUNTERS,
      result: null,
      block_reason: null,
      block_kind: null,
      policy: { stall_timeout: 600_000 },
      current_run_id: null,
      created_by: 'person:alice',
      created_by_task: null,
      idempotency_key: 'round-trip-1',
      updated_at: created.created_at,
    });
    expect(created.policy).toEqual({ stall_timeout: 600_000 });
    for (const field of TASK_FIELDS) expect(created, field).toHaveProperty(field);
    expect(Number.isSafeInteger(created.id) && created.id > parent.id).toBe(true);
    expect(Number.isSafeInteger(created.created_at)).toBe(true);

    const shown = await show(cli(), created.id);
    for (const field of TASK_FIELDS) expect(shown[field], field).toEqual(created[field]);
    const { comments, questions, runs, worktree, ...rest } = shown;
    expect(rest).toEqual(created);
    expect(comments).toEqual([]);
    expect(questions).toEqual([]);
    expect(runs).toEqual([]);
    // Only a task of a worktree profile that has started has one (docs/worktrees.md).
    expect(worktree).toBeNull();
    expect((await show(cli(), parent.id)).children).toEqual([created.id]);
  });

  it('a task without options gets the defaults', async () => {
    const t = await create(cli(), '  Trimmed title  ');
    expect(t).toMatchObject({
      title: 'Trimmed title',
      body: '',
      assignee: null,
      priority: 0,
      status: 'ready',
      parents: [],
      policy: {},
      idempotency_key: null,
    });
  });

  it('prints a line without --json', async () => {
    const r = await cli().run(['create', 'Plain output']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/^created task \d+ \[ready\] Plain output\n$/);
    // A gated task says it waits, and what lets it start.
    const gated = await cli().run(['create', 'Deploy', '--needs-approval']);
    expect(gated.stdout).toMatch(
      /^created task (\d+) \[ready\] Deploy; it waits for approval: `warden approve \1`\n$/,
    );
  });
});

describe.concurrent('status moves', () => {
  const cli = sharedHome();

  it('a new task is ready unless a parent is not done, then todo', async () => {
    const a = await create(cli(), 'A');
    expect(a.status).toBe('ready');
    const b = await create(cli(), 'B', '--parent', String(a.id));
    expect(b.status).toBe('todo');
    await move(cli(), 'done', a.id);
    const c = await create(cli(), 'C', '--parent', String(a.id));
    expect(c.status).toBe('ready');
  });

  it('done on a parent promotes a child once every parent is done', async () => {
    const p1 = await create(cli(), 'parent 1');
    const p2 = await create(cli(), 'parent 2');
    const child = await create(
      cli(),
      'child',
      '--parent',
      String(p1.id),
      '--parent',
      String(p2.id),
    );
    expect(child.status).toBe('todo');

    const done1 = await move(cli(), 'done', p1.id);
    expect(done1.status).toBe('done');
    expect((await show(cli(), child.id)).status).toBe('todo');

    await move(cli(), 'done', p2.id, '--summary', 'shipped', '--metadata', '{"files":3}');
    expect((await show(cli(), child.id)).status).toBe('ready');
    expect((await show(cli(), p2.id)).result).toEqual({
      summary: 'shipped',
      metadata: { files: 3 },
    });
  });

  it('retry of a done parent sends its ready children back to todo', async () => {
    const parent = await create(cli(), 'redo parent');
    const child = await create(cli(), 'redo child', '--parent', String(parent.id));
    await move(cli(), 'done', parent.id);
    expect((await show(cli(), child.id)).status).toBe('ready');
    expect((await move(cli(), 'retry', parent.id)).status).toBe('ready');
    expect((await show(cli(), child.id)).status).toBe('todo');
  });

  it('--triage starts in triage; accept moves it to ready, or todo while a parent is open', async () => {
    const t = await create(cli(), 'triaged', '--triage');
    expect(t.status).toBe('triage');
    expect((await move(cli(), 'accept', t.id)).status).toBe('ready');

    const parent = await create(cli(), 'open parent');
    const t2 = await create(cli(), 'triaged child', '--triage', '--parent', String(parent.id));
    expect(t2.status).toBe('triage');
    expect((await move(cli(), 'accept', t2.id)).status).toBe('todo');
  });

  it('link demotes a ready child when the parent is not done, and not when it is', async () => {
    const parent = await create(cli(), 'link parent');
    const child = await create(cli(), 'link child');
    expect(child.status).toBe('ready');
    const linked = await cli().json<Task>(['link', String(parent.id), String(child.id)]);
    expect(linked).toMatchObject({ id: child.id, status: 'todo', parents: [parent.id] });
    expect((await show(cli(), parent.id)).children).toEqual([child.id]);

    const doneParent = await create(cli(), 'finished parent');
    await move(cli(), 'done', doneParent.id);
    const other = await create(cli(), 'other child');
    const linked2 = await cli().json<Task>(['link', String(doneParent.id), String(other.id)]);
    expect(linked2).toMatchObject({ status: 'ready', parents: [doneParent.id] });

    // Linking twice changes nothing.
    const again = await cli().json<Task>(['link', String(doneParent.id), String(other.id)]);
    expect(again.parents).toEqual([doneParent.id]);
  });

  it('block sets reason and kind; unblock clears them and goes back to ready or todo', async () => {
    const t = await create(cli(), 'to block');
    const blocked = await move(
      cli(),
      'block',
      t.id,
      '--reason',
      'needs a key',
      '--kind',
      'dependency',
    );
    expect(blocked).toMatchObject({
      status: 'blocked',
      block_reason: 'needs a key',
      block_kind: 'dependency',
    });
    const unblocked = await move(cli(), 'unblock', t.id);
    expect(unblocked).toMatchObject({ status: 'ready', block_reason: null, block_kind: null });

    const parent = await create(cli(), 'still open');
    const child = await create(cli(), 'blocked child', '--parent', String(parent.id));
    const b2 = await move(cli(), 'block', child.id, '--reason', 'wait');
    expect(b2).toMatchObject({ status: 'blocked', block_kind: 'needs_input' });
    expect((await move(cli(), 'unblock', child.id)).status).toBe('todo');
  });

  it('retry sends a done or blocked task back in line and clears its result', async () => {
    const t = await create(cli(), 'retry me');
    await move(cli(), 'done', t.id, '--summary', 'first try');
    const retried = await move(cli(), 'retry', t.id);
    expect(retried).toMatchObject({ status: 'ready', result: null, not_before: null });

    await move(cli(), 'block', t.id, '--reason', 'flaky');
    expect(await move(cli(), 'retry', t.id)).toMatchObject({
      status: 'ready',
      block_reason: null,
      counters: ZERO_COUNTERS,
    });
  });

  it('archive takes a task off the board; list shows it only when asked', async () => {
    const t = await create(cli(), 'archive me');
    expect((await move(cli(), 'archive', t.id)).status).toBe('archived');
    const visible = await cli().json<Task[]>(['list']);
    expect(visible.map((x) => x.id)).not.toContain(t.id);
    const all = await cli().json<Task[]>(['list', '--archived']);
    expect(all.map((x) => x.id)).toContain(t.id);
    const archived = await cli().json<Task[]>(['list', '--status', 'archived']);
    expect(archived.map((x) => x.id)).toEqual([t.id]);
  });

  it('reopen applies only to tasks in review', async () => {
    // No worker exists yet to put a task in review, so the CLI can only show the refusal.
    const t = await create(cli(), 'not in review');
    expectError(await cli().run(['reopen', String(t.id)]), 4, /review/);
    expect((await show(cli(), t.id)).status).toBe('ready');
  });

  it('list filters by status and orders by priority, then age', async () => {
    await cli().json(['board', 'add', 'listing']);
    const low = await create(cli(), 'low', '--board', 'listing', '--priority', '-3');
    const high = await create(cli(), 'high', '--board', 'listing', '--priority', '9');
    const mid1 = await create(cli(), 'mid 1', '--board', 'listing');
    const mid2 = await create(cli(), 'mid 2', '--board', 'listing', '--triage');
    const all = await cli().json<Task[]>(['list', '--board', 'listing']);
    expect(all.map((t) => t.id)).toEqual([high.id, mid1.id, mid2.id, low.id]);
    const triage = await cli().json<Task[]>(['list', '--board', 'listing', '--status', 'triage']);
    expect(triage.map((t) => t.id)).toEqual([mid2.id]);
    const limited = await cli().json<Task[]>(['list', '--board', 'listing', '--limit', '2']);
    expect(limited.map((t) => t.id)).toEqual([high.id, mid1.id]);
  });
});

describe.concurrent('edit, comment, runs', () => {
  const cli = sharedHome();

  it('edit changes fields but never the status or counters', async () => {
    await cli().json(['profile', 'add', 'editor', '--', '/bin/echo']);
    const t = await create(cli(), 'before', '--stall-timeout', '5m');
    await move(cli(), 'block', t.id, '--reason', 'waiting on review', '--kind', 'needs_input');
    const edited = await cli().json<Task>([
      'edit',
      String(t.id),
      '--title',
      'after',
      '--body',
      'new body',
      '--priority',
      '3',
      '--assignee',
      'editor',
      '--max-failures',
      '5',
    ]);
    expect(edited).toMatchObject({
      title: 'after',
      body: 'new body',
      priority: 3,
      assignee: 'editor',
      status: 'blocked',
      block_reason: 'waiting on review',
      counters: ZERO_COUNTERS,
      policy: { stall_timeout: 300_000, max_failures: 5 },
      created_at: t.created_at,
    });
    const cleared = await cli().json<Task>([
      'edit',
      String(t.id),
      '--unassign',
      '--clear',
      'stall_timeout',
    ]);
    expect(cleared).toMatchObject({
      assignee: null,
      status: 'blocked',
      policy: { max_failures: 5 },
    });
    expect(cleared.policy).not.toHaveProperty('stall_timeout');

    const events = await cli().json<WardenEvent[]>(['events', '--task', String(t.id)]);
    const edits = events.filter((e) => e.kind === 'task_edited');
    expect(edits).toHaveLength(2);
    expect(edits[0]?.payload).toMatchObject({
      title: { from: 'before', to: 'after' },
      priority: { from: 0, to: 3 },
      body: { from_bytes: 0, to_bytes: 8 },
    });
  });

  it('comment adds a comment that show lists', async () => {
    const t = await create(cli(), 'commented');
    const c = await cli().json<Comment>(['comment', String(t.id), 'looks good to me']);
    expect(c).toEqual({
      id: expect.any(Number) as number,
      task_id: t.id,
      actor: 'person:alice',
      body: 'looks good to me',
      at: expect.any(Number) as number,
    });
    const c2 = await cli().json<Comment>(['comment', String(t.id), 'second']);
    expect((await show(cli(), t.id)).comments).toEqual([c, c2]);
  });

  it('runs lists no runs for a task that never ran', async () => {
    const t = await create(cli(), 'never ran');
    expect(await cli().json<Run[]>(['runs', String(t.id)])).toEqual([]);
    const r = await cli().run(['runs', String(t.id)]);
    expect(r).toEqual({ code: 0, stdout: 'no runs yet\n', stderr: '' });
  });
});

describe.concurrent('boards and stats', () => {
  const cli = sharedHome();

  it('board add, list and show', async () => {
    const added = await cli().json<Board>(['board', 'add', 'ops']);
    expect(added).toEqual({ name: 'ops', paused: false, created_at: expect.any(Number) as number });
    const boards = await cli().json<Board[]>(['board', 'list']);
    expect(boards.find((b) => b.name === 'ops')).toEqual(added);
    const names = boards.map((b) => b.name);
    expect(names).toContain('default');
    expect(names).toEqual([...names].sort());

    const a = await create(cli(), 'on ops', '--board', 'ops');
    const b = await create(cli(), 'waits', '--board', 'ops', '--parent', String(a.id));
    const elsewhere = await create(cli(), 'on default');
    expect(a.board).toBe('ops');
    expect(await cli().json(['board', 'show', 'ops'])).toEqual({
      board: 'ops',
      columns: { ready: [a.id], todo: [b.id] },
    });
    const onOps = await cli().json<Task[]>(['list', '--board', 'ops']);
    expect(onOps.map((t) => t.id).sort()).toEqual([a.id, b.id].sort());
    const onDefault = await cli().json<Task[]>(['list']);
    expect(onDefault.map((t) => t.id)).toEqual([elsewhere.id]);
  });

  it('stats --json counts tasks by status, runs and events of one board', async () => {
    await cli().json(['board', 'add', 'counted']);
    const a = await create(cli(), 'a', '--board', 'counted');
    await create(cli(), 'b', '--board', 'counted', '--parent', String(a.id));
    const c = await create(cli(), 'c', '--board', 'counted');
    await create(cli(), 'd', '--board', 'counted', '--triage');
    await move(cli(), 'block', c.id, '--reason', 'x');
    const stats = await cli().json<BoardStats>(['stats', '--board', 'counted']);
    expect(stats).toEqual({
      board: 'counted',
      tasks: {
        triage: 1,
        todo: 1,
        ready: 1,
        running: 0,
        review: 0,
        blocked: 1,
        done: 0,
        archived: 0,
      },
      runs: { running: 0, ending: 0, ended: 0 },
      outcomes: {},
      // board_added, four task_created and one task_blocked
      events: 6,
      // No model traffic on this board in the last 7 days (issue #13).
      llm: expect.objectContaining({ days: 7, by_profile: [], by_day: [] }) as unknown,
    });
  });
});

describe('idempotency keys', () => {
  const cli = sharedHome();

  it('--idempotency-key returns the same open task instead of a duplicate', async () => {
    const first = await create(cli(), 'once', '--idempotency-key', 'k-1');
    const second = await create(cli(), 'once again', '--idempotency-key', 'k-1');
    expect(second).toEqual(first);
    const created = await cli().json<WardenEvent[]>(['events', '--kind', 'task_created']);
    expect(created.filter((e) => e.task_id === first.id)).toHaveLength(1);

    // Once the task is done, the key is free for a new task.
    await move(cli(), 'done', first.id);
    const third = await create(cli(), 'once more', '--idempotency-key', 'k-1');
    expect(third.id).not.toBe(first.id);
    expect(third.status).toBe('ready');
  });
});
