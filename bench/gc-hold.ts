/**
 * How long `warden gc` holds other writes up (issue #16). A board is filled straight through
 * SQL (`lib/scale-fill.ts`: 78 % of its tasks done or archived, every task a month old), then
 * one process prunes its events (`pruneEvents`, as `warden gc --older-than 1d` does) while
 * creating a task every 5 ms through the same store, as `serve` would write a report meanwhile.
 * Each creation's wait, from when it was due, is how long it was held up.
 *
 *   node bench/run.ts gc-hold [--tasks 20000] [--events 400000]
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadWarden } from './lib/dist.js';
import { BenchHome } from './lib/home.js';
import { machine } from './lib/machine.js';
import { fillSqlite } from './lib/scale-fill.js';
import { summarize } from './lib/stats.js';
import { sleep } from './lib/time.js';

const DAY = 86_400_000;

export async function run(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      tasks: { type: 'string', default: '20000' },
      events: { type: 'string', default: '400000' },
    },
  });
  const warden = await loadWarden();
  const home = new BenchHome(warden);
  try {
    await home.init();
    const now = Date.now();
    const plan = {
      tasks: Number(values.tasks),
      events: Number(values.events),
      now: now - 30 * DAY,
    };
    fillSqlite(join(home.root, 'warden.db'), plan);
    const store = await home.store();
    const actor = warden.person('bench');
    const waits: number[] = [];
    let pruning = true;
    // Each write's wait counts from when it was due (5 ms after the one before), so a loop
    // held up by the prune counts too, not only a write queued behind it; the last write is
    // the first one due after the prune ended.
    const writer = (async () => {
      let due = performance.now();
      for (let i = 0; ; i++) {
        const last = !pruning;
        await store.createTask({ title: `written during gc ${i}` }, actor);
        waits.push(performance.now() - due);
        if (last) return;
        due = performance.now() + 5;
        await sleep(5);
      }
    })();
    const start = performance.now();
    const pruned = await store.pruneEvents(now - DAY, false);
    const pruneMs = performance.now() - start;
    pruning = false;
    await writer;
    const s = summarize(waits);
    const line = (label: string, value: string): string => `| ${label} | ${value} |`;
    process.stdout.write(
      [
        `## gc holding writes up: ${plan.tasks} tasks, ${plan.events} events (SQLite)`,
        '',
        '| measure | value |',
        '|---|--:|',
        line('events pruned (tasks)', `${pruned.events} (${pruned.tasks})`),
        line('prune, wall ms', pruneMs.toFixed(0)),
        line('writes (the last one due after the prune)', String(waits.length)),
        line(
          'write wait from when due, p50 / p99 / max, ms',
          `${s.p50.toFixed(1)} / ${s.p99.toFixed(1)} / ${s.max.toFixed(1)}`,
        ),
        '',
        `machine: ${JSON.stringify(machine())}`,
        '',
      ].join('\n'),
    );
  } finally {
    await home.cleanup();
  }
}
