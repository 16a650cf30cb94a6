import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterEach, describe, expect, it } from 'vitest';
import { WARDEN_BIN, runWarden } from '../helpers/cli.js';
import { TestHome, fixture, waitFor } from '../helpers/host.js';

let home: TestHome;
const clients: Client[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  await home.cleanup();
});

/** The official MCP client, starting `warden mcp` as its subprocess. */
async function mcp(env: Record<string, string>, args: string[] = []): Promise<Client> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [WARDEN_BIN, 'mcp', ...args],
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stderr: 'pipe',
  });
  const client = new Client({ name: 'warden-test', version: '1.0.0' });
  let err = '';
  transport.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  stderrOf.set(client, () => err);
  await client.connect(transport);
  clients.push(client);
  return client;
}

/** What each client's `warden mcp` wrote to standard error. */
const stderrOf = new Map<Client, () => string>();

function readEnv(dir: string, attempt: number): Record<string, string> | undefined {
  const file = join(dir, `attempt-${attempt}`);
  if (!existsSync(file)) return undefined;
  return Object.fromEntries(
    readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

/** A home with a pull profile `agent`, its serve, and `warden mcp --orchestrator` on it. */
async function orchestrator(): Promise<Client> {
  home = await new TestHome().init();
  await home.ok(['profile', 'add', 'agent', '--pull']);
  const serve = await home.serve();
  const admin = readFileSync(join(home.root, 'admin.token'), 'utf8').trim();
  return mcp({ WARDEN_URL: serve.url, WARDEN_ADMIN_TOKEN: admin }, ['--orchestrator']);
}

function text(result: Awaited<ReturnType<Client['callTool']>>): string {
  const first = (result.content as { type: string; text?: string }[])[0];
  return first?.text ?? '';
}

describe('warden mcp (SPEC §5)', () => {
  it('an agent works its task to done through the worker tools; other tasks and stale runs are refused', async () => {
    home = await new TestHome().init();
    const envDir = join(home.root, 'env');
    mkdirSync(envDir);
    await home.profile('agent', fixture('hold-run.sh'), [
      '--exit-after-complete',
      '300ms',
      '--kill-grace',
      '1s',
    ]);
    const id = await home.task('write the report', ['--assignee', 'agent', '--body', 'two pages']);
    const other = await home.task('someone else’s', []);
    await home.serve([], { RUN_ENV_DIR: envDir });
    const runEnv = await waitFor('the run to start', () => readEnv(envDir, 1));

    const client = await mcp(runEnv);
    const tools = (await client.listTools()).tools.map((t) => t.name).sort();
    expect(tools).toEqual([
      'warden_approve',
      'warden_ask',
      'warden_block',
      'warden_comment',
      'warden_complete',
      'warden_create',
      'warden_heartbeat',
      'warden_link',
      'warden_progress',
      'warden_request_changes',
      'warden_show',
    ]);
    for (const t of (await client.listTools()).tools)
      expect((t.description ?? '').length).toBeGreaterThan(40);

    const shown = await client.callTool({ name: 'warden_show', arguments: {} });
    expect(shown.isError).toBeFalsy();
    expect(JSON.parse(text(shown))).toMatchObject({
      task: { id, title: 'write the report', body: 'two pages' },
    });

    const refused = await client.callTool({
      name: 'warden_comment',
      arguments: { text: 'hi', task_id: other },
    });
    expect(refused.isError).toBe(true);
    expect(text(refused)).toMatch(
      /^forbidden: this run works task \d+; it may not act on task \d+/,
    );
    expect(await home.events(other)).toHaveLength(1);

    await client.callTool({ name: 'warden_progress', arguments: { note: 'outline written' } });
    const done = await client.callTool({
      name: 'warden_complete',
      arguments: { summary: 'report written', metadata: { pages: 2 } },
    });
    expect(done.isError).toBeFalsy();
    const task = await home.waitStatus(id, 'done');
    expect(task.result).toEqual({ summary: 'report written', metadata: { pages: 2 } });
    const [run] = await home.runs(id);
    // Tool calls counted as progress (show, then the progress call itself).
    expect(run?.progress_count).toBeGreaterThanOrEqual(2);

    // The run is over: its token is stale now.
    const late = await client.callTool({ name: 'warden_show', arguments: {} });
    expect(late.isError).toBe(true);
    expect(text(late)).toMatch(
      /^stale_run: run \d+ \(attempt 1\) of task \d+ is no longer current/,
    );
  });

  it('refuses the tools of a run superseded by a newer attempt with stale_run', async () => {
    home = await new TestHome().init();
    const envDir = join(home.root, 'env');
    mkdirSync(envDir);
    await home.profile('agent', fixture('hold-run.sh'), ['--kill-grace', '1s']);
    const id = await home.task('redo me', ['--assignee', 'agent']);
    await home.serve([], { RUN_ENV_DIR: envDir });
    const first = await waitFor('attempt 1', () => readEnv(envDir, 1));
    await home.ok(['stop', String(id), '--requeue']);
    const second = await waitFor('attempt 2', () => readEnv(envDir, 2));
    const old = await mcp(first);
    const refused = await old.callTool({
      name: 'warden_complete',
      arguments: { summary: 'old work' },
    });
    expect(refused.isError).toBe(true);
    expect(text(refused)).toMatch(/^stale_run: run \d+ \(attempt 1\)/);
    const current = await mcp(second);
    expect((await current.callTool({ name: 'warden_show', arguments: {} })).isError).toBeFalsy();
    // A WARDEN_RETRY_FOR_MS that is not milliseconds is said, and the tools are still served
    // (a trial's server refused to start: its agent ran with no warden tools, and no word).
    const odd = await mcp({ ...second, WARDEN_RETRY_FOR_MS: '5s' });
    expect((await odd.callTool({ name: 'warden_show', arguments: {} })).isError).toBeFalsy();
    expect(stderrOf.get(odd)?.()).toContain(
      "warden mcp: WARDEN_RETRY_FOR_MS='5s' is not a number of milliseconds; calls are retried for the default 10 minutes",
    );
    await home.ok(['stop', String(id), '--now']);
    expect((await home.getTask(id)).result).toBeNull();
  });

  it("the role comes from the run's token only: without it warden mcp refuses, even where the admin token is readable; --orchestrator serves the orchestrator tools", async () => {
    home = await new TestHome().init();
    const envDir = join(home.root, 'env');
    mkdirSync(envDir);
    await home.profile('agent', fixture('hold-run.sh'), ['--kill-grace', '1s']);
    const id = await home.task('keep me running', ['--assignee', 'agent']);
    await home.serve([], { RUN_ENV_DIR: envDir });
    const runEnv = await waitFor('the run to start', () => readEnv(envDir, 1));
    // What an agent CLI that cleans its servers' environment hands warden mcp: the run's
    // variables but its token, and a home whose admin.token the process can read.
    const { WARDEN_RUN_TOKEN: token, ...withoutToken } = runEnv;
    expect(token).toMatch(/^wrun_/);
    const cleaned = { ...withoutToken, WARDEN_HOME: home.root };
    const refused = await runWarden(['mcp'], cleaned);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr.trim().split('\n')).toEqual([
      'warden: warden mcp: no run token (WARDEN_RUN_TOKEN) to serve a run with; an orchestrator must ask with --orchestrator',
    ]);
    // Inside a run --orchestrator is refused too: the run's token decides.
    const inRun = await runWarden(['mcp', '--orchestrator'], runEnv);
    expect(inRun.code).toBe(1);
    expect(inRun.stderr).toContain('--orchestrator is refused inside a run');
    // Asked for, with the home's admin token, it serves the orchestrator tools.
    const client = await mcp({ WARDEN_URL: runEnv.WARDEN_URL ?? '', WARDEN_HOME: home.root }, [
      '--orchestrator',
    ]);
    const tools = (await client.listTools()).tools.map((t) => t.name);
    expect(tools).toContain('warden_create_task');
    expect(tools).not.toContain('warden_complete');
    await home.ok(['stop', String(id), '--now']);
  });

  it('an orchestrator with an admin token plans work but never unblocks needs_input', async () => {
    const client = await orchestrator();
    const tools = (await client.listTools()).tools.map((t) => t.name).sort();
    expect(tools).toEqual([
      'warden_apply_graph',
      'warden_comment_task',
      'warden_create_task',
      'warden_inbox',
      'warden_link_tasks',
      'warden_list_tasks',
      'warden_report',
      'warden_schedule_add',
      'warden_schedule_list',
      'warden_schedule_pause',
      'warden_schedule_remove',
      'warden_schedule_resume',
      'warden_show_task',
      'warden_unblock_task',
      'warden_unblock_tasks',
    ]);
    const a = JSON.parse(
      text(
        await client.callTool({
          name: 'warden_create_task',
          arguments: { title: 'plan', assignee: 'agent' },
        }),
      ),
    ) as { id: number };
    const b = JSON.parse(
      text(await client.callTool({ name: 'warden_create_task', arguments: { title: 'build' } })),
    ) as { id: number };
    expect(
      (
        await client.callTool({
          name: 'warden_link_tasks',
          arguments: { parent: a.id, child: b.id },
        })
      ).isError,
    ).toBeFalsy();
    const listed = JSON.parse(
      text(await client.callTool({ name: 'warden_list_tasks', arguments: {} })),
    ) as { id: number; status: string }[];
    expect(listed.map((t) => [t.id, t.status])).toEqual([
      [a.id, 'ready'],
      [b.id, 'todo'],
    ]);
    await home.ok(['block', String(a.id), '--reason', 'which database?', '--kind', 'needs_input']);
    const refused = await client.callTool({ name: 'warden_unblock_task', arguments: { id: a.id } });
    expect(refused.isError).toBe(true);
    expect(text(refused)).toMatch(/waits for a person \(needs_input: which database\?\)/);
    expect((await home.getTask(a.id)).status).toBe('blocked');
    // What it cannot clear, it can read, to tell the person: each item with its command.
    const inbox = JSON.parse(
      text(await client.callTool({ name: 'warden_inbox', arguments: {} })),
    ) as { total: number; items: { task_id?: number; command: string | null }[] };
    expect(inbox.items.find((i) => i.task_id === a.id)?.command).toBe(`warden unblock ${a.id}`);
    // And what was done meanwhile: no run ended yet, and the same things wait.
    const report = JSON.parse(
      text(await client.callTool({ name: 'warden_report', arguments: { since: '1h' } })),
    ) as { board: string; total: number; waiting: number };
    expect(report).toMatchObject({ board: 'default', total: 0, waiting: inbox.total });
    const unknown = await client.callTool({ name: 'warden_report', arguments: { since: 'soon' } });
    expect(unknown.isError).toBe(true);
    expect(text(unknown)).toMatch(/since: 'soon' is neither a time nor a duration/);
    await home.ok(['block', String(b.id), '--reason', 'API down', '--kind', 'transient']);
    expect(
      (await client.callTool({ name: 'warden_unblock_task', arguments: { id: b.id } })).isError,
    ).toBeFalsy();
    expect((await home.getTask(b.id)).status).toBe('todo');
  });

  it("an orchestrator applies a task graph in one step, unblocks in bulk only what an agent may clear, and has no tools for a person's replies", async () => {
    const client = await orchestrator();
    // Answering a question, approving and requesting changes are a person's acts: no tool.
    const tools = (await client.listTools()).tools.map((t) => t.name);
    for (const personal of ['warden_answer', 'warden_approve', 'warden_request_changes'])
      expect(tools).not.toContain(personal);
    const absent = await client.callTool({ name: 'warden_approve', arguments: { id: 1 } });
    expect(absent.isError).toBe(true);
    expect(text(absent)).toMatch(/warden_approve not found/);

    const graph = {
      name: 'release-42',
      tasks: [
        { name: 'design', title: 'Design the API', assignee: 'agent' },
        { name: 'build', title: 'Build it', after: ['design'], assignee: 'agent' },
        { name: 'docs', title: 'Document it', after: ['design'] },
      ],
    };
    type Applied = {
      created: number;
      existing: number;
      tasks: { name: string; id: number | null; status: string }[];
    };
    const dry = JSON.parse(
      text(
        await client.callTool({
          name: 'warden_apply_graph',
          arguments: { ...graph, dry_run: true },
        }),
      ),
    ) as Applied;
    expect(dry).toMatchObject({ created: 3, existing: 0 });
    expect((await (await home.store()).listTasks({ board: 'default' })).length).toBe(0);
    const applied = JSON.parse(
      text(await client.callTool({ name: 'warden_apply_graph', arguments: graph })),
    ) as Applied;
    expect(applied.tasks.map((t) => [t.name, t.status])).toEqual([
      ['design', 'ready'],
      ['build', 'todo'],
      ['docs', 'todo'],
    ]);
    const [design, build, docs] = applied.tasks.map((t) => t.id ?? 0) as [number, number, number];
    expect((await home.getTask(build)).parents).toEqual([design]);
    // The same graph again creates nothing.
    const again = JSON.parse(
      text(await client.callTool({ name: 'warden_apply_graph', arguments: graph })),
    ) as Applied;
    expect(again).toMatchObject({ created: 0, existing: 3 });
    expect(again.tasks.map((t) => t.id)).toEqual([design, build, docs]);
    // A cycle refuses the whole graph, and a misspelt field is not silently dropped.
    const cycle = await client.callTool({
      name: 'warden_apply_graph',
      arguments: {
        tasks: [
          { name: 'a', title: 'A', after: ['b'] },
          { name: 'b', title: 'B', after: ['a'] },
        ],
      },
    });
    expect(cycle.isError).toBe(true);
    expect(text(cycle)).toMatch(/^invalid: .*cycle/);
    const misspelt = await client.callTool({
      name: 'warden_apply_graph',
      arguments: { tasks: [{ name: 'a', title: 'A', depends_on: ['x'] }] },
    });
    expect(misspelt.isError).toBe(true);
    expect((await (await home.store()).listTasks({ board: 'default' })).length).toBe(3);

    // Blocks only a person clears are refused one by one and cannot be chosen in bulk.
    await home.ok(['block', String(design), '--reason', 'gave up', '--kind', 'failed']);
    await home.ok([
      'block',
      String(build),
      '--reason',
      'waits on the vendor',
      '--kind',
      'dependency',
    ]);
    await home.ok(['block', String(docs), '--reason', 'which audience?', '--kind', 'needs_input']);
    const failed = await client.callTool({
      name: 'warden_unblock_task',
      arguments: { id: design },
    });
    expect(failed.isError).toBe(true);
    expect(text(failed)).toMatch(/^forbidden: task \d+ waits for a person \(failed: gave up\)/);
    const personal = await client.callTool({
      name: 'warden_unblock_tasks',
      arguments: { kinds: ['needs_input'], dry_run: false },
    });
    expect(personal.isError).toBe(true);
    type Bulk = { dry_run: boolean; matched: number; changed: number; tasks: { id: number }[] };
    const preview = JSON.parse(
      text(
        await client.callTool({
          name: 'warden_unblock_tasks',
          arguments: { kinds: ['dependency', 'transient'] },
        }),
      ),
    ) as Bulk;
    expect(preview).toMatchObject({ dry_run: true, matched: 1, changed: 0 });
    expect(preview.tasks.map((t) => t.id)).toEqual([build]);
    expect((await home.getTask(build)).status).toBe('blocked');
    const unblocked = JSON.parse(
      text(
        await client.callTool({
          name: 'warden_unblock_tasks',
          arguments: { kinds: ['dependency'], dry_run: false },
        }),
      ),
    ) as Bulk;
    expect(unblocked).toMatchObject({ dry_run: false, matched: 1, changed: 1 });
    expect((await home.getTask(build)).status).toBe('todo');
    expect((await home.getTask(design)).status).toBe('blocked');
    expect((await home.getTask(docs)).status).toBe('blocked');
  });
  it('an orchestrator plans recurring work: adds a schedule (a bad cron refused, nothing stored), lists, pauses, resumes and removes it', async () => {
    const client = await orchestrator();
    type Sched = {
      name: string;
      cron: string;
      tz: string;
      catch_up: string;
      paused: boolean;
      next_at: number | null;
      template: { title: string; body: string; assignee: string | null; priority: number };
    };
    const bad = await client.callTool({
      name: 'warden_schedule_add',
      arguments: { name: 'standup', cron: 'every day', title: 'Write the standup notes' },
    });
    expect(bad.isError).toBe(true);
    expect(text(bad).split('\n')).toHaveLength(1);
    expect(text(bad)).toMatch(/^invalid: cron: 'every day' is not a cron expression/);
    const ghost = await client.callTool({
      name: 'warden_schedule_add',
      arguments: { name: 'standup', cron: '@daily', title: 'x', assignee: 'ghost' },
    });
    expect(ghost.isError).toBe(true);
    expect(text(ghost)).toMatch(/^not_found: .*profile 'ghost' does not exist/);
    expect(await (await home.store()).listSchedules()).toEqual([]);

    const added = await client.callTool({
      name: 'warden_schedule_add',
      arguments: {
        name: 'standup',
        cron: '0 9 * * MON-FRI',
        tz: 'Europe/Oslo',
        catch_up: 'once',
        title: 'Write the standup notes',
        body: 'yesterday, today, blockers',
        assignee: 'agent',
        priority: 3,
      },
    });
    expect(added.isError).toBeFalsy();
    expect(JSON.parse(text(added))).toMatchObject({
      name: 'standup',
      board: 'default',
      cron: '0 9 * * MON-FRI',
      tz: 'Europe/Oslo',
      catch_up: 'once',
      paused: false,
      template: {
        title: 'Write the standup notes',
        body: 'yesterday, today, blockers',
        assignee: 'agent',
        priority: 3,
      },
    });
    const dup = await client.callTool({
      name: 'warden_schedule_add',
      arguments: { name: 'standup', cron: '@hourly', title: 'again' },
    });
    expect(dup.isError).toBe(true);
    expect(text(dup)).toMatch(/^conflict: schedule 'standup' already exists/);

    const list = async (): Promise<Sched[]> =>
      JSON.parse(
        text(await client.callTool({ name: 'warden_schedule_list', arguments: {} })),
      ) as Sched[];
    const [listed] = await list();
    expect(listed).toMatchObject({ name: 'standup', paused: false, cron: '0 9 * * MON-FRI' });
    expect(listed?.next_at).toBeGreaterThan(Date.now());

    const paused = await client.callTool({
      name: 'warden_schedule_pause',
      arguments: { name: 'standup' },
    });
    expect(JSON.parse(text(paused))).toMatchObject({ name: 'standup', paused: true });
    expect((await list()).map((s) => s.paused)).toEqual([true]);
    const resumed = await client.callTool({
      name: 'warden_schedule_resume',
      arguments: { name: 'standup' },
    });
    expect(JSON.parse(text(resumed))).toMatchObject({ name: 'standup', paused: false });
    expect((await (await home.store()).getSchedule('standup')).paused).toBe(false);

    const removed = await client.callTool({
      name: 'warden_schedule_remove',
      arguments: { name: 'standup' },
    });
    expect(JSON.parse(text(removed))).toEqual({ removed: 'standup' });
    expect(await list()).toEqual([]);
    const unknown = await client.callTool({
      name: 'warden_schedule_pause',
      arguments: { name: 'standup' },
    });
    expect(unknown.isError).toBe(true);
    expect(text(unknown)).toMatch(/^not_found: /);
    const kinds = (await home.events()).map((e) => e.kind).filter((k) => k.startsWith('schedule_'));
    expect(kinds).toEqual([
      'schedule_added',
      'schedule_paused',
      'schedule_resumed',
      'schedule_removed',
    ]);
  });
});
