/**
 * Runs the benchmarks: `node bench/run.ts` runs every one, each in a fresh process, then
 * prints the summary; `node bench/run.ts NAME [OPTIONS]` runs one in this process.
 *
 * Node runs these TypeScript files by stripping their types. Their imports name `.js` files,
 * as everywhere in this repository (so `tsc` checks them); the hook below lets Node find the
 * `.ts` file instead. This file itself has no relative imports, so the hook is in place before
 * any of them is resolved.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { fileURLToPath } from 'node:url';

registerHooks({
  resolve(specifier, context, nextResolve) {
    if (specifier.startsWith('.') && specifier.endsWith('.js') && context.parentURL) {
      const asTs = new URL(specifier.slice(0, -3) + '.ts', context.parentURL);
      if (!existsSync(new URL(specifier, context.parentURL)) && existsSync(asTs)) {
        return nextResolve(asTs.href, context);
      }
    }
    return nextResolve(specifier, context);
  },
});

/** Every benchmark, in the order `npm run bench` runs them. */
const BENCHMARKS = [
  'dispatch-latency',
  'kill-own-child',
  'kill-adopted',
  'pull-throughput',
  'statements',
  'dashboard-paint',
  'peers-throughput',
  'pg-hosts',
  'cli-startup',
  'cli-instructions',
  'integrity-check',
  'proxy-latency',
] as const;
/**
 * Run only by name, never by `npm run bench`: `npm run soak` runs the soak; `scale` fills a
 * million-event store on each backend, minutes of work; `fleet` keeps 200 sleeping workers
 * for 5 minutes.
 */
const BY_NAME_ONLY = ['soak', 'scale', 'fleet', 'gc-hold', 'gc-folders', 'log-throughput'] as const;
type Name = (typeof BENCHMARKS)[number] | (typeof BY_NAME_ONLY)[number];

interface BenchModule {
  run(argv: readonly string[]): Promise<void>;
}

function isName(text: string | undefined): text is Name {
  return ([...BENCHMARKS, ...BY_NAME_ONLY] as readonly (string | undefined)[]).includes(text);
}

function runChild(name: Name): Promise<number> {
  const self = fileURLToPath(import.meta.url);
  const child = spawn(process.execPath, [self, name], { stdio: 'inherit' });
  return new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
}

// Stopped early, a benchmark exits, so what it started is ended on the way (lib/home.ts).
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const)
  process.once(signal, () => process.exit(code));

const [first, ...rest] = process.argv.slice(2);
if (isName(first)) {
  const mod = (await import(`./${first}.js`)) as BenchModule;
  await mod.run(rest);
} else if (first === undefined) {
  const { printSummary } = await import('./lib/summary.js');
  let failed = 0;
  for (const name of BENCHMARKS) {
    process.stderr.write(`\n== ${name} ==\n`);
    if ((await runChild(name)) !== 0) failed++;
  }
  printSummary(BENCHMARKS);
  process.exitCode = failed > 0 ? 1 : 0;
} else {
  process.stderr.write(
    `unknown benchmark '${first}'; known: ${BENCHMARKS.join(', ')}\n` +
      'usage: node bench/run.ts [NAME [OPTIONS]]\n',
  );
  process.exitCode = 2;
}
