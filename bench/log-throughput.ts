/**
 * How fast a worker can print through the shim's log reader (issue #15's cap, issue #16's
 * cost): the real shim (`libexec/warden-shim -c`) runs `yes | head -c SIZE` with the log
 * opened for appending, as `serve` starts it, and the time from spawning the shim to its
 * `exit` file is the printer's wall time. With `--before PATH` another copy of the shim (say
 * `git show REV:libexec/warden-shim > /tmp/shim.before`) runs in the same rounds, alternated
 * with this one, so both see the same machine.
 *
 *   node bench/run.ts log-throughput [--rounds 5] [--mib 50] [--before PATH]
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { machine } from './lib/machine.js';
import { summarize } from './lib/stats.js';
import { sleep } from './lib/time.js';

const SHIM = fileURLToPath(new URL('../libexec/warden-shim', import.meta.url));
const MIB = 1024 * 1024;
const CAPS = [
  { label: '1 MiB cap', bytes: MIB },
  { label: '100 MiB cap (the default)', bytes: 100 * MIB },
];

/** One printer of `size` bytes under `shim` with `cap`: seconds from spawn to the exit file. */
async function printOnce(shim: string, cap: number, size: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-logbench-'));
  const log = join(dir, 'output.log');
  const out = openSync(log, 'a');
  try {
    const start = performance.now();
    const child = spawn(
      'sh',
      [shim, '-c', log, String(cap), 'cap', dir, 'sh', '-c', `yes 'a line' | head -c ${size}`],
      { stdio: ['ignore', out, out] },
    );
    await new Promise<void>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', () => resolve());
    });
    while (!existsSync(join(dir, 'exit'))) await sleep(1);
    const seconds = (performance.now() - start) / 1000;
    if (statSync(log).size > cap) throw new Error(`${shim}: the log went past its cap`);
    return seconds;
  } finally {
    closeSync(out);
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      rounds: { type: 'string', default: '5' },
      mib: { type: 'string', default: '50' },
      before: { type: 'string' },
    },
  });
  const rounds = Number(values.rounds);
  const size = Number(values.mib) * MIB;
  const shims = [
    ...(values.before ? [{ label: `before (${values.before})`, path: values.before }] : []),
    { label: 'this tree', path: SHIM },
  ];
  const rates = new Map<string, number[]>();
  for (let r = 0; r < rounds; r++) {
    for (const cap of CAPS) {
      // Alternated: each round runs every shim once per cap, in turn.
      for (const shim of r % 2 === 0 ? shims : [...shims].reverse()) {
        const seconds = await printOnce(shim.path, cap.bytes, size);
        const key = `${shim.label} | ${cap.label}`;
        rates.set(key, [...(rates.get(key) ?? []), size / MIB / seconds]);
      }
    }
  }
  const lines = [
    `## Printing ${values.mib} MiB through the shim's log reader, ${rounds} rounds`,
    '',
    '| shim | cap | MiB/s median | min–max |',
    '|---|---|--:|--:|',
  ];
  for (const [key, samples] of rates) {
    const s = summarize(samples);
    lines.push(`| ${key} | ${s.p50.toFixed(1)} | ${s.min.toFixed(1)}–${s.max.toFixed(1)} |`);
  }
  lines.push('', `machine: ${JSON.stringify(machine())}`, '');
  process.stdout.write(lines.join('\n'));
}
