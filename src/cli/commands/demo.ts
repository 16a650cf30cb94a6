import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative } from 'node:path';
import type { Command } from 'commander';
import { systemClock } from '../../config/clock.js';
import { defaultPersonName, initHome } from '../../serve/init.js';
import { describeRun } from '../../core/describe.js';
import type { WardenEvent } from '../../core/events.js';
import { Host } from '../../serve/host.js';
import { openContext } from '../context.js';
import { boardColumns } from '../format.js';
import { say } from '../output.js';

/** Demo workers: real processes that use the worker protocol like an agent would. */
const WRITER = [
  'sh',
  '-c',
  'echo "working on task $WARDEN_TASK_ID"; sleep 0.4; warden worker progress --note "halfway"; sleep 0.4; warden worker complete --summary "finished task $WARDEN_TASK_ID"',
];
const THINKER = [
  'sh',
  '-c',
  'sleep 3; warden worker complete --summary "thought it through (3 s of silence)"',
];
const FLAKY = [
  'sh',
  '-c',
  'if [ "$WARDEN_ATTEMPT" = 1 ]; then echo "connection reset by peer" >&2; exit 1; fi; echo "passed on attempt $WARDEN_ATTEMPT"',
];

/** A payload field as text (payloads are JSON; objects are shown as JSON). */
function field(e: WardenEvent, key: string): string {
  const v = e.payload[key];
  return typeof v === 'string' || typeof v === 'number' ? String(v) : JSON.stringify(v);
}

function eventText(e: WardenEvent): string | null {
  const p = (key: string): string => field(e, key);
  const task = `#${e.task_id ?? '-'}`;
  switch (e.kind) {
    case 'run_started':
      return `${task} run started (attempt ${p('attempt')}, profile ${p('profile')})`;
    case 'stall_warning':
      return `${task} stall warning: silent ${String(Math.round(Number(e.payload.silent_ms) / 100) / 10)}s — still alive, not killed`;
    case 'run_ended':
      return `${task} run ended ${p('outcome')}: ${p('message')}`;
    case 'task_requeued':
      return `${task} requeued: ${p('reason')}`;
    case 'task_done':
      return `${task} done`;
    case 'task_promoted':
      return `${task} promoted to ready (parent ${p('finished_parent')} finished)`;
    case 'task_blocked':
      return `${task} blocked: ${p('reason')}`;
    default:
      return null;
  }
}

/**
 * A board in a fresh temporary home with real workers: some finish, one stays silent long
 * enough for a stall warning and is not killed, one crashes and is retried.
 */
async function demo(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'warden-demo-'));
  await initHome(root, defaultPersonName(), systemClock);
  process.env.WARDEN_HOME = root;
  const ctx = await openContext();
  const { store, actor } = ctx;
  await store.addProfile('writer', { argv: WRITER }, actor);
  await store.addProfile(
    'thinker',
    { argv: THINKER, policy: { stall_warn_after: 1000, stall_timeout: 60_000 } },
    actor,
  );
  await store.addProfile('flaky', { argv: FLAKY, policy: { backoff_base: 1000 } }, actor);
  const design = await store.createTask(
    { title: 'Design the schema', assignee: 'writer', priority: 10 },
    actor,
  );
  const build = await store.createTask(
    { title: 'Write the migrations', assignee: 'writer', parents: [design.id] },
    actor,
  );
  await store.createTask(
    { title: 'Document the tables', assignee: 'writer', parents: [build.id] },
    actor,
  );
  await store.createTask({ title: 'Think about edge cases', assignee: 'thinker' }, actor);
  await store.createTask({ title: 'Run the flaky integration test', assignee: 'flaky' }, actor);
  await store.createTask({ title: 'Look into the login bug', triage: true }, actor);
  say(`warden demo — a temporary home at ${root}\n`);
  say(boardColumns(await store.listTasks({ board: 'default' }), Date.now()));
  say('\nwarden serve is running the workers:');
  const host = new Host({
    store,
    home: ctx.home,
    config: ctx.config,
    clock: ctx.clock,
    port: 0,
    bind: '127.0.0.1',
    tickMs: 200,
    maxWorkers: 4,
    progressFlushMs: 1000,
  });
  let cursor = (await store.listEvents({ limit: 1, newest: true, final: true }))[0]?.id ?? 0;
  await host.start();
  const deadline = Date.now() + 60_000;
  try {
    for (;;) {
      for (const e of await store.listEvents({ after_id: cursor })) {
        cursor = e.id;
        const text = eventText(e);
        if (text !== null) say(`  ${text}`);
      }
      const open = await store.listTasks({
        board: 'default',
        statuses: ['todo', 'ready', 'running'],
      });
      if (open.length === 0 || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await host.stop();
  }
  const tasks = await store.listTasks({ board: 'default' });
  say('');
  say(boardColumns(tasks, Date.now()));
  say('\nruns, in words:');
  for (const t of tasks) {
    for (const r of await store.listRuns(t.id))
      say(`  #${t.id} run ${r.id} ${describeRun(r, Date.now())}`);
  }
  await store.close();
  // Installed (npm install -g), the command is `warden`; from a checkout, the path that ran,
  // as it can be typed here (./bin/warden.js at the checkout's root).
  const ran = process.argv[1] ?? '';
  const here = relative(process.cwd(), ran);
  const checkout = ran.endsWith('/bin/warden.js') && !ran.includes('/node_modules/');
  const self = !checkout ? 'warden' : here.startsWith('..') || isAbsolute(here) ? ran : `./${here}`;
  say(`\nlook around: WARDEN_HOME=${root} ${self} events`);
}

export function register(program: Command): void {
  program
    .command('demo')
    .description('run real workers on a demo board in a temporary home and show the board move')
    .action(demo);
}
