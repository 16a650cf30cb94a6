/**
 * How long gc's removal of a big workspace holds `serve`'s event loop (issue #16's "tick held
 * up"): a folder of N small files in folders of 100, as a `node_modules` is, measured and
 * removed three ways, interleaved, in one process:
 * - `sync`: a synchronous walk and `rmSync`, as gc did before;
 * - `node-rm`: an asynchronous walk and Node's own `fs.promises.rm`;
 * - `warden`: `treeSize` and `removeTree` (src/os/tree.ts), as gc does now.
 * A 10 ms timer runs meanwhile; the longest it waited past its time is the longest stall.
 *
 *   node bench/run.ts gc-folders [--files 50000] [--rounds 3]
 */
import { mkdirSync, lstatSync, readdirSync, rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import { lstat, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type * as TreeModule from '../src/os/tree.js';
import { machine } from './lib/machine.js';
import { summarize } from './lib/stats.js';
import { sleep } from './lib/time.js';

type Way = 'sync' | 'node-rm' | 'warden';
const WAYS: readonly Way[] = ['sync', 'node-rm', 'warden'];

function fill(path: string, files: number): void {
  for (let i = 0; i < files; i++) {
    const sub = join(path, 'node_modules', `pkg-${Math.floor(i / 100)}`);
    if (i % 100 === 0) mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, `f-${i}.js`), 'module.exports = 1;\n');
  }
}

function sizeSync(path: string): number {
  const st = lstatSync(path);
  if (!st.isDirectory()) return st.size;
  let total = 0;
  for (const name of readdirSync(path)) total += sizeSync(join(path, name));
  return total;
}

async function sizeAsync(path: string): Promise<number> {
  const st = await lstat(path);
  if (!st.isDirectory()) return st.size;
  let total = 0;
  for (const name of await readdir(path)) total += await sizeAsync(join(path, name));
  return total;
}

/** The longest a 10 ms timer waited past its time, until stopped. */
function stallMeter(): () => number {
  let longest = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last - 10);
    last = now;
  }, 10);
  return () => {
    clearInterval(timer);
    return longest;
  };
}

export async function run(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      files: { type: 'string', default: '50000' },
      rounds: { type: 'string', default: '3' },
    },
  });
  const files = Number(values.files);
  const rounds = Number(values.rounds);
  const tree = (await import(
    new URL('../dist/os/tree.js', import.meta.url).href
  )) as typeof TreeModule;
  const ways = {
    sync: (p: string) => {
      sizeSync(p);
      rmSync(p, { recursive: true, force: true });
      return Promise.resolve();
    },
    'node-rm': async (p: string) => {
      await sizeAsync(p);
      await rm(p, { recursive: true, force: true });
    },
    warden: async (p: string) => {
      await tree.treeSize(p);
      await tree.removeTree(p);
    },
  } satisfies Record<Way, (p: string) => Promise<void>>;
  const root = mkdtempSync(join(tmpdir(), 'warden-bench-gc-'));
  const wall: Record<Way, number[]> = { sync: [], 'node-rm': [], warden: [] };
  const stall: Record<Way, number[]> = { sync: [], 'node-rm': [], warden: [] };
  try {
    for (let r = 0; r < rounds; r++) {
      for (const way of WAYS) {
        const path = join(root, way);
        fill(path, files);
        await sleep(200);
        const stop = stallMeter();
        await sleep(30);
        const from = performance.now();
        await ways[way](path);
        wall[way].push(performance.now() - from);
        await sleep(30);
        stall[way].push(stop());
      }
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  const cell = (v: number[]): string => {
    const s = summarize(v);
    return `${s.p50.toFixed(0)} (${s.min.toFixed(0)}–${s.max.toFixed(0)})`;
  };
  process.stdout.write(
    [
      `## gc measuring and removing a folder of ${files} files: ${rounds} interleaved rounds`,
      '',
      '| way | wall ms, median (min–max) | longest event-loop stall ms, median (min–max) |',
      '|---|--:|--:|',
      ...WAYS.map((w) => `| ${w} | ${cell(wall[w])} | ${cell(stall[w])} |`),
      '',
      `machine: ${JSON.stringify(machine())}`,
      '',
    ].join('\n'),
  );
}
