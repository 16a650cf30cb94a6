import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { WardenEvent } from '../../src/core/events.js';
import type { Task } from '../../src/core/task.js';
import { createHome, expectError, freshHome, sharedHome } from '../helpers/cli.js';
import { wardenDb } from '../helpers/hosts.js';
import { FINAL_ORDER, insertEvent, outOfOrder, schemaClient } from '../helpers/pg-clients.js';
import type { Cli } from '../helpers/cli.js';

const FOLLOW_DEADLINE_MS = 15_000;

interface Output {
  /** Resolves with all standard output so far once `done` holds for it; rejects at the deadline. */
  waitFor(done: (stdout: string) => boolean, deadlineMs?: number): Promise<string>;
}

/** Collects a child's standard output from the start, so no line is missed between waits. */
function watchStdout(child: ChildProcessWithoutNullStreams): Output {
  let stdout = '';
  let exited = false;
  const waiters = new Set<() => void>();
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
    for (const check of waiters) check();
  });
  child.on('exit', () => {
    exited = true;
    for (const check of waiters) check();
  });
  return {
    waitFor: (done, deadlineMs = FOLLOW_DEADLINE_MS) =>
      new Promise((resolve, reject) => {
        const finish = (err?: Error): void => {
          clearTimeout(timer);
          waiters.delete(check);
          if (err) reject(err);
          else resolve(stdout);
        };
        const check = (): void => {
          if (done(stdout)) finish();
          else if (exited) finish(new Error(`exited early; stdout:\n${stdout}`));
        };
        const timer = setTimeout(
          () => finish(new Error(`no expected output within ${deadlineMs} ms; got:\n${stdout}`)),
          deadlineMs,
        );
        waiters.add(check);
        check();
      }),
  };
}

function jsonLines(text: string): WardenEvent[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as WardenEvent);
}

describe('events', () => {
  const cli = sharedHome({ name: 'ana' });

  it('lists what happened to a task, in order, with actor and time', async () => {
    const parent = await cli().json<Task>(['create', 'parent']);
    const child = await cli().json<Task>(['create', 'child', '--parent', String(parent.id)]);
    const late = await cli().json<Task>(['create', 'linked later', '--triage']);
    const p = String(parent.id);
    const c = String(child.id);
    const l = String(late.id);
    for (const args of [
      ['accept', l],
      ['link', p, l],
      ['block', p, '--reason', 'needs credentials', '--kind', 'needs_input'],
      ['unblock', p],
      ['done', p, '--summary', 'done by hand'],
      ['comment', c, 'on it'],
      ['edit', c, '--priority', '2'],
      ['archive', c],
      ['done', l],
      ['retry', l],
    ]) {
      const r = await cli().run(args);
      expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 0, stderr: '' });
    }

    const parentEvents = await cli().json<WardenEvent[]>(['events', '--task', p]);
    expect(parentEvents.map((e) => e.kind)).toEqual([
      'task_created',
      'task_blocked',
      'task_unblocked',
      'task_done',
    ]);
    expect(parentEvents[1]?.payload).toEqual({
      from: 'ready',
      to: 'blocked',
      reason: 'needs credentials',
      kind: 'needs_input',
    });
    expect(parentEvents[3]?.payload).toEqual({
      from: 'ready',
      to: 'done',
      summary: 'done by hand',
    });

    const childEvents = await cli().json<WardenEvent[]>(['events', '--task', c]);
    expect(childEvents.map((e) => e.kind)).toEqual([
      'task_created',
      'task_promoted',
      'task_commented',
      'task_edited',
      'task_archived',
    ]);
    expect(childEvents[0]?.payload).toMatchObject({ status: 'todo', parents: [parent.id] });
    expect(childEvents[1]?.payload).toEqual({
      from: 'todo',
      to: 'ready',
      finished_parent: parent.id,
    });

    const lateEvents = await cli().json<WardenEvent[]>(['events', '--task', l]);
    expect(lateEvents.map((e) => [e.kind, e.payload])).toEqual([
      ['task_created', expect.objectContaining({ status: 'triage' }) as unknown],
      ['task_accepted', { from: 'triage', to: 'ready' }],
      ['task_linked', { parent: parent.id, child: late.id }],
      ['task_demoted', { from: 'ready', to: 'todo', waiting_for: [parent.id] }],
      ['task_promoted', { from: 'todo', to: 'ready', finished_parent: parent.id }],
      ['task_done', { from: 'ready', to: 'done' }],
      ['task_retried', { from: 'done', to: 'ready' }],
    ]);

    for (const events of [parentEvents, childEvents, lateEvents]) {
      for (const e of events) {
        expect(e).toMatchObject({ actor: 'person:ana', board: 'default', run_id: null });
        expect(Number.isSafeInteger(e.at)).toBe(true);
        expect(e.at).toBeGreaterThan(Date.UTC(2020, 0, 1));
      }
      const ids = events.map((e) => e.id);
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
      const times = events.map((e) => e.at);
      expect(times).toEqual([...times].sort((a, b) => a - b));
    }
    // The parent's done and the child's promotion are one transaction, at one time.
    expect(childEvents[1]?.at).toBe(parentEvents[3]?.at);
    expect(childEvents[1]?.id).toBeGreaterThan(parentEvents[3]?.id ?? Infinity);
  });

  it('filters by board, kind and cursor', async () => {
    const board = await cli().json<WardenEvent[]>(['events']);
    expect(board[0]).toMatchObject({ kind: 'board_added', board: 'default', actor: 'person:ana' });

    const done = await cli().json<WardenEvent[]>(['events', '--kind', 'task_done,task_archived']);
    expect(done.length).toBeGreaterThan(0);
    expect(new Set(done.map((e) => e.kind))).toEqual(new Set(['task_done', 'task_archived']));

    const cursor = board[1]?.id ?? 0;
    const after = await cli().json<WardenEvent[]>(['events', '--after', String(cursor)]);
    expect(after).toEqual(board.slice(2));
    // Without a cursor, --limit keeps the newest events, oldest first.
    const newest = await cli().json<WardenEvent[]>(['events', '--limit', '2']);
    expect(newest).toEqual(board.slice(-2));
    const afterLimited = await cli().json<WardenEvent[]>([
      'events',
      '--after',
      String(cursor),
      '--limit',
      '2',
    ]);
    expect(afterLimited).toEqual(board.slice(2, 4));
  });

  it('includes events that belong to no board, such as profile changes', async () => {
    await cli().json(['profile', 'add', 'p', '--', 'sh']);
    await cli().json(['profile', 'pause', 'p', '--reason', 'quota']);
    const events = await cli().json<WardenEvent[]>([
      'events',
      '--kind',
      'profile_added,profile_paused',
    ]);
    expect(events.map((e) => [e.kind, e.board, e.actor])).toEqual([
      ['profile_added', null, 'person:ana'],
      ['profile_paused', null, 'person:ana'],
    ]);
    const all = await cli().json<WardenEvent[]>(['events']);
    expect(all.map((e) => e.kind)).toContain('token_created');
  });

  it('prints one line per event without --json', async () => {
    const r = await cli().run(['events', '--kind', 'board_added']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/board_added\s+person:ana/);
  });
});

/** Starts `warden events ARGS...`, collecting its output and its exit. */
function follow(cli: Cli, args: readonly string[]) {
  const follower = cli.start(['events', ...args]);
  let stderr = '';
  follower.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    follower.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { follower, output: watchStdout(follower), exited, stderr: () => stderr };
}

/**
 * Creates tasks until the follower prints one: it starts at the end, so what is created
 * before it has read where the end is may be missed, and there is no other sign that it has.
 */
async function createUntilSeen(cli: Cli, output: Output): Promise<Task> {
  const deadline = Date.now() + FOLLOW_DEADLINE_MS;
  for (let i = 1; Date.now() < deadline; i++) {
    const t = await cli.json<Task>(['create', `followed ${i}`]);
    try {
      await output.waitFor((s) => jsonLines(s).some((e) => e.task_id === t.id), 1000);
      return t;
    } catch {
      // Not seen within a second: made before the follower found the end; make another.
    }
  }
  throw new Error('the follower printed none of the tasks created');
}

describe('events --follow', () => {
  it('starts at the end, prints new events as JSON lines and exits cleanly on SIGINT', async (ctx) => {
    const cli = await freshHome(ctx, { name: 'ana' });
    const old = await cli.json<Task>(['create', 'before the follower']);
    const f = follow(cli, ['--follow', '--json']);
    let seen: WardenEvent[];
    let created: Task;
    try {
      created = await createUntilSeen(cli, f.output);
      seen = jsonLines(await f.output.waitFor(() => true));
    } finally {
      f.follower.kill('SIGINT');
    }
    expect(seen).toContainEqual(
      expect.objectContaining({
        kind: 'task_created',
        task_id: created.id,
        actor: 'person:ana',
      }) as WardenEvent,
    );
    // History is not replayed: nothing from before it started.
    expect(seen.filter((e) => e.kind === 'board_added' || e.task_id === old.id)).toEqual([]);
    expect(await f.exited).toEqual({ code: 0, signal: null });
    expect(f.stderr()).toBe('');
  });

  it('starts from --since or --after when given, then keeps following', async (ctx) => {
    const cli = await freshHome(ctx, { name: 'ana' });
    const old = await cli.json<Task>(['create', 'before the follower']);
    for (const from of [
      ['--since', '1h'],
      ['--since', new Date(Date.now() - 3_600_000).toISOString()],
      ['--after', '0'],
    ]) {
      const f = follow(cli, ['--follow', '--json', ...from]);
      try {
        const out = await f.output.waitFor((s) => jsonLines(s).some((e) => e.task_id === old.id));
        expect(
          jsonLines(out).map((e) => e.kind),
          from.join(' '),
        ).toContain('board_added');
        const later = await cli.json<Task>(['create', 'after']);
        await f.output.waitFor((s) => jsonLines(s).some((e) => e.task_id === later.id));
      } finally {
        f.follower.kill('SIGINT');
      }
      expect(await f.exited).toEqual({ code: 0, signal: null });
    }
    // Since a time to come: nothing yet.
    const none = await cli.run(['events', '--since', '2999-01-01T00:00:00Z']);
    expect(none).toEqual({ code: 0, stdout: 'no events\n', stderr: '' });
    expectError(
      await cli.run(['events', '--follow', '--since', 'yesterday']),
      2,
      /--since: 'yesterday' is neither a time nor a duration/,
    );
  });
});

describe.skipIf(!process.env.WARDEN_TEST_PG_URL)('events --follow on PostgreSQL', () => {
  it('prints every event once when transactions commit their events out of id order', async (ctx) => {
    const url = process.env.WARDEN_TEST_PG_URL ?? '';
    const schema = `clievents_${process.pid}_${Date.now()}`;
    const cli = await createHome({ init: false });
    ctx.onTestFinished(async () => {
      cli.remove();
      const admin = await schemaClient('public');
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    });
    cli.env.WARDEN_DB = wardenDb(url, schema);
    expect((await cli.run(['init', '--name', 'ana'])).code).toBe(0);
    const last = (await cli.json<WardenEvent[]>(['events', '--json'])).at(-1)?.id ?? 0;
    const f = follow(cli, ['--follow', '--json', '--after', String(last)]);
    const titles = (s: string): unknown[] => jsonLines(s).map((e) => e.payload.title);
    // `early` takes its xid first but commits the larger id; `late` stays open.
    const o = await outOfOrder(schema);
    let out: string;
    try {
      await f.output.waitFor((s) => titles(s).length === 1);
      await insertEvent(o.third, FINAL_ORDER[2]);
      await o.late.query('COMMIT');
      out = await f.output.waitFor((s) => titles(s).includes(FINAL_ORDER[2]));
    } finally {
      await o.close();
      f.follower.kill('SIGINT');
    }
    expect(titles(out)).toEqual(FINAL_ORDER);
    expect(await f.exited).toEqual({ code: 0, signal: null });
  });
});
