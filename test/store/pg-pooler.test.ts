/*
 * Behind a pooler (Debian's pgbouncer, session pooling) a connection is told the pooler's
 * process ids, not the server's: the connection watch must not take a slow statement's
 * connection for one whose server process is gone. On a real PostgreSQL (WARDEN_TEST_PG_URL)
 * behind a real pgbouncer; skipped without them, except in CI.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { pidOf } from '../../src/store/postgres/connection-watch.js';
import { PgDriver } from '../../src/store/postgres/driver.js';
import { waitFor } from '../helpers/host.js';
import { PG_URL } from '../helpers/pg-schemas.js';
import { freePort } from '../helpers/ports.js';

const PGBOUNCER = '/usr/sbin/pgbouncer';
if (process.env.CI && !existsSync(PGBOUNCER))
  throw new Error(`${PGBOUNCER} is missing: .ci/run installs Debian's pgbouncer`);

/**
 * A pgbouncer in session pooling in front of `target`, in a folder of its own; `defer` gets
 * its cleanup as soon as it runs, so a start that fails leaves nothing behind.
 */
async function startPgbouncer(target: string, defer: (stop: () => void) => void): Promise<string> {
  const to = new URL(target);
  const dir = mkdtempSync(join(tmpdir(), 'warden-pgbouncer-'));
  // As root it must be told a user to run as, who must be able to write its log.
  chmodSync(dir, 0o777);
  const port = await freePort();
  const config = join(dir, 'pgbouncer.ini');
  writeFileSync(
    config,
    [
      '[databases]',
      `postgres = host=${to.hostname} port=${to.port || 5432} user=${decodeURIComponent(to.username) || 'postgres'} dbname=${to.pathname.slice(1) || 'postgres'}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = any',
      'pool_mode = session',
      // The driver's per-connection settings; pgbouncer 1.18 passes no `options` on.
      'ignore_startup_parameters = options',
      `logfile = ${join(dir, 'pgbouncer.log')}`,
      '',
    ].join('\n'),
  );
  chmodSync(config, 0o644);
  const args = process.getuid?.() === 0 ? ['-u', 'nobody', config] : [config];
  const proc: ChildProcess = spawn(PGBOUNCER, args, { stdio: 'ignore' });
  defer(() => {
    proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  await waitFor('pgbouncer to answer', async () => {
    if (proc.exitCode !== null) throw new Error(`pgbouncer exited ${proc.exitCode}`);
    const c = new pg.Client({ connectionString: url });
    c.on('error', () => undefined);
    try {
      await c.connect();
      await c.query('SELECT 1');
      return true;
    } catch {
      return false;
    } finally {
      await c.end().catch(() => undefined);
    }
  });
  return url;
}

describe.skipIf(!PG_URL || !existsSync(PGBOUNCER))('behind pgbouncer (PostgreSQL)', () => {
  const closing: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const close of closing.splice(0).reverse()) await close();
  });

  it('waits for a slow statement: the process ids it is told are not the server’s', async () => {
    const bouncer = await startPgbouncer(PG_URL ?? '', (stop) => closing.push(stop));

    // The premise: through pgbouncer a connection's process id is not its server process's.
    const c = new pg.Client({ connectionString: bouncer });
    await c.connect();
    closing.push(() => c.end());
    const { rows } = await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    expect(rows[0]?.pid).not.toBe(pidOf(c));

    const db = await PgDriver.connect({ url: bouncer, max: 2, quietMs: 300 });
    closing.push(() => db.close());
    // Quiet for 2 s, asked about several times: waited for, not closed.
    expect(
      await db.read((tx) => tx.get<{ done: string }>("SELECT 'yes' AS done, pg_sleep(2)")),
    ).toEqual({
      done: 'yes',
      pg_sleep: '',
    });
  }, 30_000);
});
