/**
 * A PostgreSQL server of the test's own, in a temporary folder, so a test can stop and start
 * it without touching the machine's server that other tests use. Debian's binaries; as root
 * the server runs as the `postgres` user (PostgreSQL refuses to run as root).
 */
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';

function binDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) {
    if (existsSync(join(root, v, 'bin', 'initdb'))) return join(root, v, 'bin');
  }
  throw new Error(
    'no PostgreSQL server binaries under /usr/lib/postgresql (Debian package postgresql)',
  );
}

/** A private PostgreSQL server. */
export class PrivatePg {
  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly bin: string,
  ) {}

  /** The URL to connect to it. */
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  /** Makes a new cluster (initdb) and starts it. */
  static async create(): Promise<PrivatePg> {
    const bin = binDir();
    const dir = mkdtempSync(join(tmpdir(), 'warden-pg-'));
    if (process.getuid?.() === 0) chownSync(dir, pgId('-u'), pgId('-g'));
    const pg = new PrivatePg(dir, await freePort(), bin);
    pg.run('initdb', ['-D', join(dir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync']);
    pg.start();
    return pg;
  }

  private run(tool: string, args: readonly string[]): void {
    const cmd = join(this.bin, tool);
    const asPg = process.getuid?.() === 0;
    execFileSync(asPg ? 'runuser' : cmd, asPg ? ['-u', 'postgres', '--', cmd, ...args] : args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      cwd: this.dir,
    });
  }

  start(): void {
    this.run('pg_ctl', [
      '-D',
      join(this.dir, 'data'),
      '-l',
      join(this.dir, 'log'),
      '-w',
      '-o',
      `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
      'start',
    ]);
  }

  /** Stops the server at once, cutting every connection (`-m fast`). */
  stop(): void {
    this.run('pg_ctl', ['-D', join(this.dir, 'data'), '-m', 'fast', '-w', 'stop']);
  }

  /** Stops it if it runs and removes its files. */
  destroy(): void {
    try {
      this.stop();
    } catch {
      // already stopped
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function pgId(which: '-u' | '-g'): number {
  return Number(execFileSync('id', [which, 'postgres'], { encoding: 'utf8' }).trim());
}
