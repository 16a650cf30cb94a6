/**
 * CLI start-up (issue #10): how long a `warden` command takes as a whole process, from
 * `spawn()` to its exit, beside bare Node (`node -e 0`) in the same rounds. Target: each
 * command's median within 60 ms of bare Node's.
 *
 * - `warden --version`;
 * - `warden list` on an empty board (a throwaway home made with `warden init`, SQLite);
 * - `warden worker progress --note x` as a worker calls it: a real `warden serve` runs a
 *   real task whose worker saved its whole environment (`env -0`) and sleeps; each call is
 *   spawned with exactly that environment (the run's WARDEN_URL and WARDEN_RUN_TOKEN, the
 *   worker's PATH with the home's `warden` shim first), so `serve` answers it as the live
 *   run's own call. It is timed both as `node bin/warden.js`, like the other rows, and
 *   through the shim on the worker's PATH (a `sh` exec more), as a worker script runs it.
 *
 * Each round runs every command once, in a shuffled order; the first rounds are warm-up (the
 * compile cache and the page cache filled, as for any call after a worker's first). Supporting
 * rows: each command minus `node -e 0` of the same round, and the commands with Node's compile
 * cache turned off (`NODE_DISABLE_COMPILE_CACHE=1`), to show what it buys.
 *
 *   node bench/run.ts cli-startup [--runs 30] [--warmup 3]
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadWarden } from './lib/dist.js';
import { BenchHome, WARDEN_BIN } from './lib/home.js';
import { report } from './lib/results.js';
import { ms, summarize } from './lib/stats.js';
import type { Row } from './lib/stats.js';
import { waitFor } from './lib/time.js';

/** How far above bare Node's median start-up a command's median may be (issue #10). */
const OVER_NODE_MS = 60;

/** One command of a round. */
interface Probe {
  label: string;
  file: string;
  args: readonly string[];
  env: NodeJS.ProcessEnv;
  /** What a successful run prints on standard output. */
  expect: RegExp;
}

/** Spawn to exit, in milliseconds; fails unless the command exits 0 with the expected output. */
function timeOnce(p: Probe): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const start = process.hrtime.bigint();
    const child = spawn(p.file, p.args, { env: p.env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.on('exit', (code) => {
      const took = Number(process.hrtime.bigint() - start) / 1e6;
      // The exit is timed; the pipes are drained before the output is checked.
      child.on('close', () => {
        if (code === 0 && p.expect.test(out)) resolve(took);
        else reject(new Error(`${p.label}: exit ${code}, stdout ${out.trim()}, stderr ${err}`));
      });
    });
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    child.on('error', reject);
  });
}

function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** The environment a worker saved with `env -0` in `file`, once it is there. */
function savedEnv(file: string): NodeJS.ProcessEnv | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const env: NodeJS.ProcessEnv = {};
  for (const pair of text.split('\0')) {
    const eq = pair.indexOf('=');
    if (eq > 0) env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return env;
}

export async function run(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      runs: { type: 'string', default: '30' },
      warmup: { type: 'string', default: '3' },
    },
  });
  const runs = Number(values.runs);
  const warmup = Number(values.warmup);
  const warden = await loadWarden();
  const empty = new BenchHome(warden);
  const serving = new BenchHome(warden);
  const startedAt = new Date();
  try {
    await empty.init();

    // A live run whose worker saves its environment, then waits to be ended.
    await serving.init();
    const envFile = join(serving.root, 'worker.env');
    await serving.profile(
      'holder',
      ['sh', '-c', 'env -0 > "$0.tmp" && mv "$0.tmp" "$0" && exec sleep 3600', envFile],
      ['--stall-timeout', '1h', '--exit-after-complete', '300ms', '--kill-grace', '1s'],
    );
    await serving.cli(['create', 'report progress', '--assignee', 'holder']);
    // Opened so that cleanup can end the worker should the benchmark fail.
    await serving.store();
    await serving.serve();
    const runEnv = await waitFor('the worker to save its environment', () => savedEnv(envFile));
    if (!runEnv.WARDEN_URL || !runEnv.WARDEN_RUN_TOKEN)
      throw new Error(`the worker's environment has no WARDEN_URL or WARDEN_RUN_TOKEN`);
    const shim = join(serving.root, 'bin', 'warden');

    const node = process.execPath;
    const probes: Probe[] = [
      { label: '`node -e 0`', file: node, args: ['-e', '0'], env: empty.env, expect: /^$/ },
      {
        label: '`warden --version`',
        file: node,
        args: [WARDEN_BIN, '--version'],
        env: empty.env,
        expect: /^\d+\.\d+\.\d+\n$/,
      },
      {
        label: '`warden list`, empty board',
        file: node,
        args: [WARDEN_BIN, 'list'],
        env: empty.env,
        expect: /^no tasks\n$/i,
      },
      {
        label: '`warden worker progress --note x`, in a live run',
        file: node,
        args: [WARDEN_BIN, 'worker', 'progress', '--note', 'x'],
        env: runEnv,
        expect: /^ok\n$/,
      },
      {
        label: '`warden worker progress --note x`, in a live run, through the shim',
        file: shim,
        args: ['worker', 'progress', '--note', 'x'],
        env: runEnv,
        expect: /^ok\n$/,
      },
    ];
    const uncached: Probe[] = probes.slice(1, 4).map((p) => ({
      ...p,
      label: `${p.label}, compile cache off`,
      env: { ...p.env, NODE_DISABLE_COMPILE_CACHE: '1' },
    }));
    const all = [...probes, ...uncached];

    const times = new Map<Probe, number[]>(all.map((p) => [p, []]));
    const rounds: Record<string, number>[] = [];
    process.stderr.write(`cli start-up: ${warmup} + ${runs} rounds of ${all.length} commands\n`);
    for (let round = -warmup; round < runs; round++) {
      const took: Record<string, number> = {};
      for (const p of shuffled(all)) took[p.label] = await timeOnce(p);
      if (round < 0) continue;
      rounds.push(took);
      for (const p of all) times.get(p)?.push(took[p.label] ?? Number.NaN);
      if ((round + 1) % 10 === 0) process.stderr.write(`  ${round + 1}/${runs}\n`);
    }
    // End the run as its worker would.
    await new Promise<void>((resolve, reject) => {
      spawn(node, [WARDEN_BIN, 'worker', 'complete', '--summary', 'measured'], {
        env: runEnv,
        stdio: 'ignore',
      })
        .on('exit', () => resolve())
        .on('error', reject);
    });

    const [bare, ...commands] = probes;
    if (bare === undefined) throw new Error('no bare Node probe');
    const bareSummary = summarize(times.get(bare) ?? []);
    const target = { p50: Math.round((bareSummary.p50 + OVER_NODE_MS) * 10) / 10 };
    const overBare = (p: Probe): Row => ({
      label: `${p.label} − \`node -e 0\` of the same round`,
      summary: summarize(rounds.map((r) => (r[p.label] ?? NaN) - (r[bare.label] ?? NaN))),
    });

    report({
      name: 'cli-startup',
      title: 'CLI start-up, whole process, beside bare Node',
      started_at: startedAt.toISOString(),
      duration_s: (Date.now() - startedAt.getTime()) / 1000,
      method:
        `Each command is spawned and timed from just before \`spawn()\` to its \`exit\` ` +
        `event (hrtime), ${runs} rounds after ${warmup} of warm-up, every command once per ` +
        `round in a shuffled order. \`worker progress\` runs with the environment of a live ` +
        `run's worker against a real \`serve\`. Target: median < bare Node's median ` +
        `(${ms(bareSummary.p50)} ms) + ${OVER_NODE_MS} ms.`,
      rows: [
        { label: bare.label, summary: bareSummary },
        ...commands.map((p) => ({
          label: p.label,
          summary: summarize(times.get(p) ?? []),
          target,
        })),
      ],
      notes: [
        ...commands.map(overBare),
        ...uncached.map((p) => ({ label: p.label, summary: summarize(times.get(p) ?? []) })),
      ],
      samples: rounds,
    });
  } finally {
    await serving.cleanup();
    await empty.cleanup();
  }
}
