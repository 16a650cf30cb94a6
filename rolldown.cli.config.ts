import { readFileSync } from 'node:fs';
import { defineConfig } from 'rolldown';
import { lazyBuiltins } from './rolldown.builtins.ts';

/**
 * The `warden` command line as a few dozen files instead of some three hundred (issue #10:
 * every CLI call, a worker's included, paid Node's module loader once per file, and zod alone
 * is ninety-five). The input is tsc's output, so the bundle runs exactly the JavaScript the
 * tests run; each `import()` of a command or a store backend stays its own chunk, loaded only
 * when that command runs.
 *
 * Left to Node, as packages in node_modules: the native SQLite module, pg (it looks for an
 * optional native driver at run time) and pino (it starts its transports from files). The
 * rest is bundled, zod and every package that builds on it together, so there is one copy of
 * zod's classes.
 *
 * Every chunk lands in dist/bundle/, two levels below the package root like every module of
 * dist/, so a path a module finds from its own URL (the shim, bin/warden.js, package.json, the
 * dashboard's files) is the same bundled or not. The source maps name the modules in each
 * chunk (test/cli/startup.test.ts reads them to tell what a command loaded).
 */
const LEFT_TO_NODE = ['better-sqlite3', 'pg', 'pino'];

/**
 * commander imports node:child_process for its executable subcommands, which warden does not
 * use; loading it (and the net, dgram and stream modules it pulls in) cost every command about
 * as much as commander itself. In commander's chunk the import becomes an object that loads
 * the module on first use, with `process.getBuiltinModule`.
 */
const LAZY_CHILD_PROCESS = '\0warden:lazy-child-process';
const lazyChildProcess = {
  name: 'warden-lazy-child-process',
  resolveId(source: string, importer: string | undefined) {
    if (source === 'node:child_process' && importer?.includes('/node_modules/commander/')) {
      return LAZY_CHILD_PROCESS;
    }
    return null;
  },
  load(id: string) {
    if (id !== LAZY_CHILD_PROCESS) return null;
    return [
      "const load = () => process.getBuiltinModule('node:child_process');",
      'export default new Proxy({}, { get: (_target, key) => load()[key] });',
    ].join('\n');
  },
};

/**
 * The modules nearly every command that opens a home loads (the core rules, the config, the
 * SQLite store, the CLI's context and table formats), in one chunk rather than some thirty:
 * Node's loader costs about half a million instructions a file. Kept out: what the quick
 * paths (`--version`, `worker progress`) load, so they still load only their own few files;
 * every module that imports zod; and each command's own module.
 */
const QUICK_PATHS = [
  'core/errors.js',
  'cli/output.js',
  'cli/version.js',
  'cli/worker-call.js',
  'sdk/http.js',
  'cli/quick.js',
  'cli/main.js',
];
const WITH_ZOD = ['core/task.js', 'core/validate.js', 'core/profile.js', 'config/config-file.js'];
const SHARED =
  /[\\/]dist[\\/](core[\\/]|config[\\/]|os[\\/](token|open-files)|store[\\/](sql|sqlite)[\\/]|store[\\/](open|storage-errors)\.js|cli[\\/](context|format|options|program)\.js)/;

/**
 * A module that imports a library only some commands need (zod, the cron parser, YAML), or a
 * module of `WITH_ZOD`, stays out of the shared chunk whatever its folder: there it would load
 * for every command, and a shared chunk importing back from a chunk that imports it breaks
 * the order modules start in.
 */
const HEAVY_IMPORT =
  /from\s*["'](zod|croner|yaml|\.\/(task|validate|profile|schedule|cron)\.js)["']/;

function isShared(id: string): boolean {
  if (!SHARED.test(id)) return false;
  if (QUICK_PATHS.concat(WITH_ZOD).some((m) => id.replaceAll('\\', '/').endsWith(`/dist/${m}`)))
    return false;
  try {
    return !HEAVY_IMPORT.test(readFileSync(id, 'utf8'));
  } catch {
    return true;
  }
}

function packageName(id: string): string {
  const parts = id.split('/');
  return id.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? id);
}

export default defineConfig({
  input: { warden: 'dist/cli/main.js' },
  platform: 'node',
  plugins: [lazyChildProcess, lazyBuiltins()],
  // What the grouping below needs (rolldown sets it, with a warning, when it is not said):
  // the entry chunk may export more than the entry module, which nothing imports anyway.
  preserveEntrySignatures: 'allow-extension',
  external: (id) =>
    !id.startsWith('.') && !id.startsWith('/') && LEFT_TO_NODE.includes(packageName(id)),
  output: {
    dir: 'dist/bundle',
    format: 'esm',
    entryFileNames: '[name].js',
    chunkFileNames: '[name]-[hash].js',
    sourcemap: true,
    // Whitespace and comments out, names kept: Node reads, decodes and hashes every byte of a
    // chunk it loads (about 4 M instructions of `warden list`), and a stack trace still names
    // warden's functions; `node --enable-source-maps` maps it back to the source.
    minify: { compress: false, mangle: false, codegen: { removeWhitespace: true } },
    comments: false,
    sourcemapExcludeSources: true,
    cleanDir: true,
    codeSplitting: {
      includeDependenciesRecursively: false,
      groups: [{ name: 'shared', test: isShared }],
    },
  },
  logLevel: 'warn',
});
