/**
 * The peers of `pull-throughput`: no-op jobs fetched and completed per second by pg-boss and
 * graphile-worker on the machine's PostgreSQL and BullMQ on its Redis, with 1 and 8 concurrent
 * workers in this process, so warden's figure has something to stand beside. Each round is a
 * fresh schema (or queue name), dropped (or obliterated) afterwards; the jobs exist before the
 * workers start, and the clock runs from the first fetch to the moment the store counts every
 * job completed. Durability is each library's default on the servers as they are configured;
 * the output says what that is. Rounds go peer after peer, so load from other work falls on
 * all of them alike, after a warm-up round of each that is not counted.
 *
 * With `--floor`, the floor of a round (peers/floor.ts: one statement a round, directly or over
 * HTTP, on warden's tables; not warden) runs beside them, to show what the server-side design
 * of issue #16 could reach at best.
 *
 *   node bench/run.ts peers-throughput [--tasks 500] [--rounds 3] [--only NAME[,NAME]] [--floor]
 */
import { parseArgs } from 'node:util';
import { machine } from './lib/machine.js';
import { report } from './lib/results.js';
import { summarize } from './lib/stats.js';
import type { Row } from './lib/stats.js';
import { bullmq } from './peers/bullmq.js';
import { floorDirect, floorDirectLoops, floorHttp, floorHttpLoops } from './peers/floor.js';
import { graphileWorker } from './peers/graphile-worker.js';
import { measureRound } from './peers/measure.js';
import type { RoundSample } from './peers/measure.js';
import type { Peer } from './peers/peer.js';
import { pgBoss } from './peers/pg-boss.js';
import { wardenPg, wardenPgSlots } from './peers/warden.js';

const PEERS: readonly Peer[] = [
  wardenPg(1),
  wardenPg(3),
  wardenPgSlots,
  pgBoss,
  graphileWorker,
  bullmq,
];
const CONCURRENCY = [1, 8] as const;

function positive(text: string, option: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${option} wants a positive integer`);
  return n;
}

/** The table to set beside pull-throughput's: tasks/s, median and spread over the rounds. */
function rateTable(rows: readonly Row[], rounds: number, tasks: number): string {
  const lines = rows.map((r) => {
    const s = r.summary;
    return `| ${r.label} | ${rounds} × ${tasks} | ${s.p50.toFixed(0)} | ${s.min.toFixed(0)} | ${s.max.toFixed(0)} |`;
  });
  return [
    '| peer, concurrency | rounds × tasks | median tasks/s | min | max |',
    '|---|---|--:|--:|--:|',
    ...lines,
  ].join('\n');
}

export async function run(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      tasks: { type: 'string', default: '500' },
      rounds: { type: 'string', default: '3' },
      only: { type: 'string' },
      floor: { type: 'boolean', default: false },
    },
  });
  const tasks = positive(values.tasks, 'tasks');
  // `--only TEXT[,TEXT]`: just the peers whose name contains one of them (to look closely).
  const only = values.only?.split(',');
  const peers = [
    ...(values.floor ? [floorDirect, floorDirectLoops, floorHttp, floorHttpLoops] : []),
    ...PEERS,
  ].filter((p) => only === undefined || only.some((text) => p.name.includes(text)));
  const rounds = positive(values.rounds, 'rounds');
  const startedAt = new Date();

  const samples: RoundSample[] = [];
  // Round 0 is warm-up, not counted: a round of BullMQ lasts tens of milliseconds, so in a
  // cold process it would measure the JIT as much as the queue.
  for (let round = 0; round <= rounds; round++) {
    for (const peer of peers) {
      for (const concurrency of CONCURRENCY) {
        const sample = await measureRound(peer, tasks, concurrency, round);
        if (round > 0) samples.push(sample);
        process.stderr.write(
          `${round === 0 ? 'warm-up' : `round ${round}/${rounds}`} ${peer.name} ×${concurrency}: ` +
            `${sample.tasks_per_s.toFixed(0)} tasks/s (${sample.seconds.toFixed(2)} s)\n`,
        );
      }
    }
  }

  const rows: Row[] = peers.flatMap((peer) =>
    CONCURRENCY.map((concurrency) => ({
      label: `${peer.name}, ${concurrency} worker${concurrency === 1 ? '' : 's'}`,
      summary: summarize(
        samples
          .filter((s) => s.peer === peer.name && s.concurrency === concurrency)
          .map((s) => s.tasks_per_s),
      ),
    })),
  );
  const notes = peers.flatMap((peer) => [
    `- ${peer.name}: ${CONCURRENCY.map((c) => `${c} = ${peer.workers(c)}`).join('; ')}.`,
    `  Durability (the defaults): ${samples.find((s) => s.peer === peer.name)?.durability ?? '?'}.`,
  ]);

  report({
    name: 'peers-throughput',
    title: 'Peer job queues: no-op jobs fetched and completed per second (tasks/s, not ms)',
    started_at: startedAt.toISOString(),
    duration_s: (Date.now() - startedAt.getTime()) / 1000,
    method:
      `${rounds} rounds × ${tasks} no-op jobs per row, after one warm-up round that is not ` +
      'counted; each round a fresh PostgreSQL schema ' +
      '(pg-boss, graphile-worker) or Redis queue name (BullMQ), removed afterwards. The jobs ' +
      'are enqueued before the workers start; throughput = jobs ÷ the time from the first ' +
      'fetch to the store counting every job completed. Each library’s default durability ' +
      'settings; the columns are tasks per second over the rounds.',
    rows,
    notes: [],
    samples,
  });
  process.stdout.write(
    `\n${rateTable(rows, rounds, tasks)}\n\nWorkers and durability:\n\n${notes.join('\n')}\n` +
      `\nmachine: ${JSON.stringify(machine())}\n`,
  );
}
