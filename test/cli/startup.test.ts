/*
 * The CLI loads a command's modules only when that command runs (issue #10): `--version`,
 * `list` and a worker's `warden worker progress` must not pay for the MCP SDK, Hono, pg or
 * each other's code. The real executable runs with test/fixtures/loaded-modules.mjs preloaded,
 * which reports every module the process loaded; no timing is asserted.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { COMMANDS, commandsFor, createProgram } from '../../src/cli/program.js';
import { freshHome, runWarden } from '../helpers/cli.js';
import type { CliResult } from '../helpers/cli.js';
import { TestHome, fixture, waitFor } from '../helpers/host.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RECORDER = new URL('../fixtures/loaded-modules.mjs', import.meta.url).href;
const VERSION = (
  JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }
).version;

interface Traced {
  result: CliResult;
  /** What the process loaded: paths relative to the repository, or `node:` names. */
  modules: string[];
  /** Node's own modules the process loaded (`process.moduleLoadList`). */
  builtins: string[];
}

/**
 * The modules a file the process loaded holds: for a chunk of the CLI's bundle (dist/bundle/,
 * rolldown.cli.config.ts), the modules its source map names, as they sit in dist/ or
 * node_modules/; any other file is itself.
 */
function bundled(file: string): string[] {
  if (!file.startsWith('dist/bundle/')) return [file];
  // Rolldown's own helpers (interop for CommonJS packages), made by the bundler: no module.
  if (file.startsWith('dist/bundle/rolldown-runtime-')) return [];
  const map = JSON.parse(readFileSync(join(ROOT, `${file}.map`), 'utf8')) as { sources: string[] };
  return map.sources.map((source) => relative(ROOT, join(ROOT, dirname(file), source)));
}

/** Runs `warden ARGS...` with the module recorder preloaded. */
async function traced(args: readonly string[], env: NodeJS.ProcessEnv): Promise<Traced> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-startup-'));
  const out = join(dir, 'loaded.json');
  try {
    const result = await runWarden(args, {
      ...env,
      NODE_OPTIONS: `--import=${RECORDER}`,
      LOADED_MODULES_OUT: out,
    });
    const seen = JSON.parse(readFileSync(out, 'utf8')) as { modules: string[]; builtins: string[] };
    const modules = seen.modules.flatMap((url) =>
      url.startsWith('file:') ? bundled(relative(ROOT, fileURLToPath(url))) : [url],
    );
    return { result, modules, builtins: seen.builtins };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The command modules a process loaded, by file name. */
function commandModules(t: Traced): string[] {
  return t.modules.flatMap((m) => /^dist\/cli\/commands\/([^/]+)\.js$/.exec(m)?.[1] ?? []);
}

/** The loaded modules under any of `places` (path fragments). */
function loadedFrom(t: Traced, places: readonly string[]): string[] {
  return t.modules.filter((m) => places.some((p) => m.includes(p)));
}

/** The packages no start-up path of a command that does not serve needs. */
const SERVER_PACKAGES = [
  'node_modules/pg', // pg, pg-pool, pg-protocol, pg-types, ...
  'node_modules/hono/',
  'node_modules/@hono/',
  'node_modules/@modelcontextprotocol/',
  'node_modules/pino', // pino and its helpers
];
const SERVER_CODE = [
  'dist/api/',
  'dist/serve/',
  'dist/dispatcher/',
  'dist/supervisor/',
  'dist/endings/',
  'dist/os/procfs',
  'dist/mcp/',
];

describe('what a command loads before it runs', () => {
  it('--version loads no command, no store and no package, not even commander', async () => {
    const t = await traced(['--version'], { ...process.env });
    expect(t.result).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
    expect(commandModules(t)).toEqual([]);
    expect(loadedFrom(t, ['node_modules/', 'dist/store/', ...SERVER_CODE])).toEqual([]);
  });

  it.concurrent(
    'list on an empty SQLite board loads list alone: no server code, zod or node:crypto',
    async (ctx) => {
      const cli = await freshHome(ctx);
      const t = await traced(['list'], cli.env);
      expect(t.result).toEqual({ code: 0, stdout: 'no tasks\n', stderr: '' });
      expect(commandModules(t)).toEqual(['list']);
      expect(loadedFrom(t, [...SERVER_PACKAGES, ...SERVER_CODE, 'dist/store/postgres/'])).toEqual(
        [],
      );
      // A read takes no input schema (zod) and hashes no token (node:crypto): those load
      // with the first write.
      expect(loadedFrom(t, ['node_modules/zod/', 'dist/core/validate.js'])).toEqual([]);
      expect(t.builtins.filter((b) => b === 'NativeModule crypto')).toEqual([]);
    },
  );

  describe('worker progress from inside a run', () => {
    let home: TestHome | undefined;
    afterEach(async () => {
      await home?.cleanup();
      home = undefined;
    });

    it('loads the worker command and the HTTP call only: no store, zod, server code or undici', async () => {
      const h = await new TestHome().init();
      home = h;
      const envDir = join(h.root, 'env');
      mkdirSync(envDir);
      await h.profile('agent', fixture('hold-run.sh'), [
        '--exit-after-complete',
        '300ms',
        '--kill-grace',
        '1s',
      ]);
      const id = await h.task('report progress', ['--assignee', 'agent']);
      await h.serve([], { RUN_ENV_DIR: envDir });
      const file = join(envDir, 'attempt-1');
      const runEnv = await waitFor('the run to start', () => {
        try {
          return Object.fromEntries(
            readFileSync(file, 'utf8')
              .trim()
              .split('\n')
              .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
          );
        } catch {
          return undefined;
        }
      });
      // What a worker's own call has: its PATH and HOME, and the run's WARDEN_* variables.
      const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...runEnv };

      const t = await traced(['worker', 'progress', '--note', 'halfway'], env);
      expect(t.result).toEqual({ code: 0, stdout: 'ok\n', stderr: '' });
      // Its plain form is read without commander or any command module (src/cli/quick.ts).
      expect(commandModules(t)).toEqual([]);
      expect(
        loadedFrom(t, [
          ...SERVER_PACKAGES,
          ...SERVER_CODE,
          'dist/store/',
          'dist/config/',
          'node_modules/zod/',
          'node_modules/better-sqlite3/',
          'node_modules/commander/',
        ]),
      ).toEqual([]);
      // Anything else goes through commander, with the same worker module.
      const json = await traced(['worker', 'heartbeat', '--json', '--', 'extra'], env);
      expect(json.result.code).toBe(2);
      expect(commandModules(json)).toEqual(['worker']);
      // fetch() would load Node's bundled undici, most of the call's start-up.
      expect(t.builtins.filter((b) => b.includes('undici'))).toEqual([]);
      // serve writes progress to the store in batches (--progress-flush).
      await waitFor('the progress to be recorded', async () => {
        const [run] = await h.runs(id);
        return (run?.progress_count ?? 0) >= 1;
      });

      const done = await runWarden(['worker', 'complete', '--summary', 'reported'], env);
      expect(done).toEqual({ code: 0, stdout: 'completed\n', stderr: '' });
      await h.waitStatus(id, 'done');
    });
  });
});

describe('the command table', () => {
  it('names exactly the commands each module registers, once each', async () => {
    for (const entry of COMMANDS) {
      const program = new Command('warden');
      (await entry.load()).register(program);
      expect(program.commands.map((c) => c.name())).toEqual(entry.names);
    }
    const names = COMMANDS.flatMap((c) => c.names);
    expect(new Set(names).size).toBe(names.length);
  });

  it('loads one module for a command, none for --version, all for help and mistakes', () => {
    expect(commandsFor(['list', '--json'])).toEqual([COMMANDS.find((c) => c.names[0] === 'list')]);
    expect(commandsFor(['retry', '3'])).toEqual([COMMANDS.find((c) => c.names[0] === 'block')]);
    expect(commandsFor(['--version'])).toEqual([]);
    for (const argv of [[], ['--help'], ['help', 'list'], ['creat'], ['--json', 'list']])
      expect(commandsFor(argv)).toBe(COMMANDS);
  });
});

interface Parsed {
  out: string;
  err: string;
  /** Commander's code for how parsing ended (help, version, a usage error), or null. */
  code: string | null;
  exitCode: number;
}

/** Parses `argv` with output captured; only for arguments that end before any action runs. */
async function parse(program: Command, argv: readonly string[]): Promise<Parsed> {
  let out = '';
  let err = '';
  const capture = (cmd: Command): void => {
    cmd.exitOverride();
    cmd.configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (err += s) });
    for (const sub of cmd.commands) capture(sub);
  };
  capture(program);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return { out, err, code: null, exitCode: 0 };
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    return { out, err, code: e.code, exitCode: e.exitCode };
  }
}

describe('a program with only the commands argv needs', () => {
  // Help, version and usage errors: none of these reaches a command's action.
  it.for([
    [],
    ['--help'],
    ['-h'],
    ['help'],
    ['help', 'list'],
    ['help', 'done'],
    ['--version'],
    ['-V'],
    ['--version', 'list'],
    ['--help', 'list'],
    ['-h', 'worker'],
    ['--json', 'list'],
    ['list', '--help'],
    ['list', '--version'],
    ['list', '--statu', 'ready'],
    ['block', '--help'],
    ['done', '-h'],
    // With no id, `archive` is a bulk action that needs a filter; a filter with no value stops
    // in the parser.
    ['archive', '--status'],
    ['worker'],
    ['worker', '--help'],
    ['worker', 'progress', '--help'],
    ['worker', 'progres'],
    ['profile'],
    ['board', 'ad'],
    ['creat', 'x'],
    ['lsit'],
  ])('parses warden %s exactly as the whole program does', async (argv) => {
    const whole = await parse(await createProgram(VERSION), argv);
    const lazy = await parse(await createProgram(VERSION, argv), argv);
    expect(lazy).toEqual(whole);
    expect(whole.code).not.toBeNull();
  });
});
