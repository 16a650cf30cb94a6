import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { systemClock } from '../../config/clock.js';
import { defaultPersonName, initHome } from '../../config/init.js';
import { openContext } from '../context.js';
import { boardColumns, eventLine } from '../format.js';
import { say } from '../output.js';

/**
 * Makes a board in a fresh temporary home, fills it with a small plan whose tasks depend on
 * each other, finishes the first task and shows how the board moves.
 */
async function demo(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'warden-demo-'));
  await initHome(root, defaultPersonName(), systemClock);
  process.env.WARDEN_HOME = root;
  const ctx = await openContext();
  try {
    const { store, actor } = ctx;
    await store.addProfile(
      'demo-agent',
      { argv: ['sh', '-c', 'echo working on "$WARDEN_TASK_ID"'] },
      actor,
    );
    const design = await store.createTask(
      { title: 'Design the schema', assignee: 'demo-agent', priority: 10 },
      actor,
    );
    const migrate = await store.createTask(
      { title: 'Write the migrations', assignee: 'demo-agent', parents: [design.id] },
      actor,
    );
    await store.createTask(
      { title: 'Document the tables', assignee: 'demo-agent', parents: [design.id, migrate.id] },
      actor,
    );
    await store.createTask({ title: 'Look into flaky login test', triage: true }, actor);
    const now = Date.now();
    say(`warden demo — a temporary home at ${root}\n`);
    say(boardColumns(await store.listTasks({ board: 'default' }), now));
    say(`\nfinishing task ${design.id}: its child ${migrate.id} becomes ready\n`);
    await store.moveTask(
      design.id,
      { verb: 'done', summary: 'tables: boards, tasks, runs, events' },
      actor,
    );
    say(boardColumns(await store.listTasks({ board: 'default' }), Date.now()));
    say('\nevents:');
    for (const e of await store.listEvents({ board: 'default' })) say(`  ${eventLine(e)}`);
    say(`\nlook around: WARDEN_HOME=${root} ./bin/warden.js list`);
  } finally {
    await ctx.store.close();
  }
}

export function register(program: Command): void {
  program
    .command('demo')
    .description('make a demo board in a temporary home and show it move')
    .action(demo);
}
