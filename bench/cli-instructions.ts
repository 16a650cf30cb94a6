/**
 * Where a CLI command's start-up goes, in instructions rather than milliseconds (issue #10):
 * valgrind's callgrind counts the instructions a whole process executes, the same however
 * busy the machine is, so the parts of `warden list` can be weighed against bare Node on a
 * loaded machine. Each probe is a fresh process with the compile cache warm (it is run once
 * first), as a command after the first is.
 *
 * - bare Node (`node -e 0`) and Node with the compile cache on, the floor every command pays;
 * - `warden --version` and `warden list` on an empty board (SQLite);
 * - Node importing one part of what `list` loads, alone: a chunk of the CLI's bundle
 *   (found by its name in dist/bundle/) or a package. Parts share Node's own modules (fs,
 *   crypto, ...), so their costs overlap and do not add up to `list`'s.
 *
 *   node bench/run.ts cli-instructions
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BenchHome, WARDEN_BIN } from './lib/home.js';
import { loadWarden } from './lib/dist.js';

const BUNDLE = fileURLToPath(new URL('../dist/bundle/', import.meta.url));

interface Probe {
  label: string;
  args: readonly string[];
}

/** Instructions `node ARGS...` executes, in millions, under callgrind. */
function instructions(args: readonly string[], env: NodeJS.ProcessEnv): number {
  // Once to fill the compile cache, once counted.
  spawnSync(process.execPath, args, { env, stdio: 'ignore' });
  const r = spawnSync(
    'valgrind',
    ['--tool=callgrind', '--callgrind-out-file=/dev/null', process.execPath, ...args],
    { env, encoding: 'utf8' },
  );
  const count = /Collected : (\d+)/.exec(r.stderr)?.[1];
  if (r.status !== 0 || count === undefined)
    throw new Error(`valgrind node ${args.join(' ')}: exit ${r.status}: ${r.stderr.slice(-400)}`);
  return Number(count) / 1e6;
}

/** `node` importing `specifier` with the compile cache on, as bin/warden.js runs. */
function importing(specifier: string): string[] {
  return [
    '--input-type=module',
    '-e',
    `import m from 'node:module'; m.enableCompileCache(); await import(${JSON.stringify(specifier)});`,
  ];
}

function chunk(prefix: string): string {
  const name = readdirSync(BUNDLE).find((f) => f.startsWith(`${prefix}-`) && f.endsWith('.js'));
  if (name === undefined) throw new Error(`no chunk ${prefix}-*.js in ${BUNDLE}; npm run build`);
  return `${BUNDLE}${name}`;
}

export async function run(): Promise<void> {
  const home = new BenchHome(await loadWarden());
  const started = Date.now();
  try {
    await home.init();
    const probes: Probe[] = [
      { label: '`node -e 0`', args: ['-e', '0'] },
      { label: 'Node, compile cache on', args: importing('node:module') },
      { label: '`warden --version`', args: [WARDEN_BIN, '--version'] },
      { label: '`warden list`, empty board', args: [WARDEN_BIN, 'list'] },
      { label: 'part: commander (bundle chunk)', args: importing(chunk('commander')) },
      { label: 'part: zod (bundle chunk)', args: importing(chunk('schemas')) },
      { label: 'part: better-sqlite3', args: importing('better-sqlite3') },
      { label: 'part: node:crypto (not loaded by a read)', args: importing('node:crypto') },
      { label: 'part: node:fs as an ES module (the bundle avoids it)', args: importing('node:fs') },
      {
        label: 'part: core, config, the SQLite store, context (the `shared` chunk)',
        args: importing(chunk('shared')),
      },
    ];
    const rows = probes.map((p) => ({ ...p, mi: instructions(p.args, home.env) }));
    const floor = rows[1]?.mi ?? 0;
    process.stdout.write(
      `\n## CLI start-up in instructions (callgrind)\n\n` +
        `| process | instructions (millions) | over Node with the compile cache |\n|---|--:|--:|\n` +
        rows
          .map((r) => `| ${r.label} | ${r.mi.toFixed(1)} | ${(r.mi - floor).toFixed(1)} |`)
          .join('\n') +
        `\n\n(${Math.round((Date.now() - started) / 1000)} s)\n`,
    );
  } finally {
    await home.cleanup();
  }
}
