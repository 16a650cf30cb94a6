/*
 * Issue #15: a package anyone can install. `npm pack` of the built project gives a tarball
 * that ships what the installed `warden` needs (the CLI bundle, the shim, the prebuilt
 * dashboard, the SDK with its types, docs, README, LICENSE) and nothing large by mistake;
 * `npm install -g --prefix TMP` of it (dependencies from npm's cache where it has them) gives
 * a `warden` on which `warden init` and `warden demo` work, with only Node and the install's
 * bin folder on PATH; and another project imports `warden/sdk`, type-checks against its
 * types, and creates a task through it on the installed `warden serve`.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/host.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** npm as the machine has it, on PATH (beside node, or the system's). */
const NPM = 'npm';
const TSC = join(ROOT, 'node_modules', '.bin', 'tsc');

let tmp: string;
let tarball: string;
let prefix: string;
/** The environment of a machine with Node and the installed warden, nothing of this repo. */
let env: NodeJS.ProcessEnv;

/** The variables that say how this machine reaches the network: proxies and trusted CAs. */
function machineNetwork(from: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const names = /^(https?_proxy|no_proxy|all_proxy|node_extra_ca_certs|ssl_cert_(file|dir))$/i;
  return Object.fromEntries(Object.entries(from).filter(([k]) => names.test(k)));
}

/** Runs `cmd` and returns its standard output; fails with its output if it exits non-zero. */
function run(
  cmd: string,
  args: readonly string[],
  cwd: string,
  extra: NodeJS.ProcessEnv = {},
): string {
  try {
    return execFileSync(cmd, args, {
      cwd,
      env: { ...env, ...extra },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 240_000,
    });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `${cmd} ${args.join(' ')}: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`,
      {
        cause: err,
      },
    );
  }
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'warden-package-'));
  prefix = join(tmp, 'prefix');
  env = {
    PATH: [join(prefix, 'bin'), dirname(process.execPath), '/usr/bin', '/bin'].join(':'),
    HOME: join(tmp, 'home'),
    // npm's cache stays the machine's, so the install can be offline where it holds everything.
    npm_config_cache: execFileSync(NPM, ['config', 'get', 'cache'], { encoding: 'utf8' }).trim(),
    npm_config_update_notifier: 'false',
    // The machine's way to the registry stays too: its proxy and the certificates it trusts
    // (without them npm retried the registry until the test's 240 s ran out).
    ...machineNetwork(process.env),
  };
  mkdirSync(env.HOME ?? '', { recursive: true });
  // The build is already there (tests run the built CLI); `prepare` would build it again.
  const packed = JSON.parse(
    run(NPM, ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], ROOT),
  ) as { filename: string }[];
  tarball = join(tmp, packed[0]?.filename ?? '');
}, 120_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('the npm package', () => {
  it('ships what an installed warden needs, and nothing large by mistake', () => {
    const [info] = JSON.parse(
      run(NPM, ['pack', '--dry-run', '--ignore-scripts', '--json'], ROOT),
    ) as { size: number; unpackedSize: number; files: { path: string; size: number }[] }[];
    const paths = info?.files.map((f) => f.path) ?? [];
    for (const needed of [
      'bin/warden.js',
      'libexec/warden-shim',
      'libexec/warden-setup',
      'dist/bundle/warden.js',
      'dist/web/index.html',
      'dist/sdk/index.js',
      'dist/sdk/index.d.ts',
      'README.md',
      'LICENSE',
      'CHANGELOG.md',
      'docs/cli.md',
      'docs/sdk.md',
      'package.json',
    ]) {
      expect(paths, needed).toContain(needed);
    }
    expect(paths.some((p) => p.startsWith('dist/web/assets/'))).toBe(true);
    for (const p of paths) {
      expect(p, 'sources, tests, maps and screenshots stay out').not.toMatch(
        /^(src|test|bench|scripts|node_modules)\/|\.map$|^docs\/screenshots\//,
      );
    }
    // docs/operations.md states the size; 2 MB packed leaves room without hiding a mistake.
    expect(info?.size).toBeLessThan(2_000_000);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(pkg.private).toBeUndefined();
    expect(pkg.name).toBe('warden');
  });

  it('installs globally; warden init and warden demo work; another project uses warden/sdk', async () => {
    // From the machine's npm cache alone where it holds every dependency (the lock file's
    // install filled it), so a slow registry does not decide the test (CI once waited 240 s
    // on it); from the registry for what it lacks.
    const install = (mode: string): string =>
      run(
        NPM,
        ['install', '-g', '--prefix', prefix, mode, '--no-audit', '--no-fund', tarball],
        tmp,
      );
    try {
      install('--offline');
    } catch {
      install('--prefer-offline');
    }
    const home = join(tmp, 'warden-home');
    const wardenEnv = { WARDEN_HOME: home };
    expect(run('warden', ['--version'], tmp)).toMatch(/^\d+\.\d+\.\d+/);
    expect(run('warden', ['init', '--name', 'tester'], tmp, wardenEnv)).toMatch(
      /warden home ready at/,
    );
    const demo = run('warden', ['demo'], tmp);
    expect(demo).toMatch(/completed .* finished task 1/);
    expect(demo).toMatch(/look around: WARDEN_HOME=\S+ warden events/);

    // Another project: `warden/sdk` resolved through its node_modules, as npm link makes it.
    const scratch = join(tmp, 'scratch');
    mkdirSync(join(scratch, 'node_modules'), { recursive: true });
    writeFileSync(
      join(scratch, 'package.json'),
      '{"name":"scratch","private":true,"type":"module"}\n',
    );
    symlinkSync(
      join(prefix, 'lib', 'node_modules', 'warden'),
      join(scratch, 'node_modules', 'warden'),
    );
    writeFileSync(
      join(scratch, 'use.ts'),
      [
        "import { createClient, createWorker } from 'warden/sdk';",
        'const [url, token] = process.argv.slice(2) as [string, string];',
        'const warden = createClient({ url, token });',
        "const task = await warden.createTask({ title: 'made through the sdk' });",
        'const again = await warden.getTask(task.id);',
        'console.log(JSON.stringify({ worker: typeof createWorker, title: again.title }));',
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(scratch, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          strict: true,
          noEmit: true,
          typeRoots: [join(ROOT, 'node_modules', '@types')],
          types: ['node'],
        },
        files: ['use.ts'],
      }),
    );
    run(TSC, ['-p', scratch], scratch);

    const serve = spawn('warden', ['serve', '--port', '0'], {
      env: { ...env, ...wardenEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    serve.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    serve.stderr.setEncoding('utf8').on('data', (c: string) => (out += c));
    const exited = new Promise((r) => serve.once('exit', r));
    try {
      const url = await waitFor('the installed serve to listen', () => {
        if (serve.exitCode !== null) throw new Error(`serve exited ${serve.exitCode}: ${out}`);
        return /warden serve: (\S+)/.exec(out)?.[1];
      });
      const token = readFileSync(join(home, 'admin.token'), 'utf8').trim();
      // Node runs the TypeScript file as it is (type stripping), from the scratch project.
      const used = JSON.parse(run(process.execPath, ['use.ts', url, token], scratch)) as unknown;
      expect(used).toEqual({ worker: 'function', title: 'made through the sdk' });
      expect(run('warden', ['list'], tmp, wardenEnv)).toMatch(/made through the sdk/);
    } finally {
      serve.kill('SIGTERM');
      await exited;
    }
  }, 300_000);
});
