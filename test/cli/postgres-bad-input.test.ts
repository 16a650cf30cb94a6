import { afterEach, describe, expect, it } from 'vitest';
import { PgDriver } from '../../src/store/postgres/driver.js';
import { createHome, expectError, runWarden } from '../helpers/cli.js';
import type { Cli } from '../helpers/cli.js';
import { wardenDb } from '../helpers/hosts.js';

// Bad input with several hosts on PostgreSQL (issue #6): a wrong or unreachable WARDEN_DB, a
// schema newer than this build, a host id another live host holds. One line, the documented
// exit code, nothing changed.
const URL = process.env.WARDEN_TEST_PG_URL;
if (!URL && process.env.CI) {
  throw new Error('WARDEN_TEST_PG_URL is not set: CI must run the PostgreSQL CLI tests');
}

const homes: Cli[] = [];
const schemas: string[] = [];

afterEach(async () => {
  for (const h of homes.splice(0)) h.remove();
  const admin = await PgDriver.connect({ url: URL ?? '', max: 1 });
  for (const s of schemas.splice(0)) await admin.exec(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  await admin.close();
});

function newSchema(): string {
  const s = `clipg_${process.pid}_${Date.now()}_${schemas.length}`;
  schemas.push(s);
  return s;
}

/** Every row of every table of a schema, for "nothing changed". */
async function pgSnapshot(schema: string): Promise<Record<string, unknown[]>> {
  const db = await PgDriver.connect({ url: URL ?? '', max: 1 });
  try {
    const tables = await db.all<{ table_name: string }>(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = ? ORDER BY table_name',
      [schema],
    );
    const out: Record<string, unknown[]> = {};
    for (const { table_name } of tables) {
      out[table_name] = await db.all(`SELECT * FROM ${schema}."${table_name}" ORDER BY 1`);
    }
    return out;
  } finally {
    await db.close();
  }
}

async function schemaExists(name: string): Promise<boolean> {
  const db = await PgDriver.connect({ url: URL ?? '', max: 1 });
  try {
    return (await db.all('SELECT 1 FROM pg_namespace WHERE nspname = ?', [name])).length > 0;
  } finally {
    await db.close();
  }
}

async function pgHome(schema: string): Promise<Cli> {
  const cli = await createHome({ init: false });
  homes.push(cli);
  cli.env.WARDEN_DB = wardenDb(URL ?? '', schema);
  const r = await cli.run(['init', '--name', 'alice']);
  expect(r.code, r.stderr).toBe(0);
  return cli;
}

describe.skipIf(!URL)('bad input with WARDEN_DB', () => {
  it('refuses a wrong or unreachable WARDEN_DB, and a missing schema, creating nothing', async () => {
    const cli = await createHome({ init: false });
    homes.push(cli);
    const run = (db: string, args: string[]) => runWarden(args, { ...cli.env, WARDEN_DB: db });
    expectError(await run('mysql://root@127.0.0.1/x', ['init']), 2, /mysql is not supported/);
    expectError(await run('not a url', ['list']), 2, /WARDEN_DB: not a URL/);
    expectError(
      await run(wardenDb(URL ?? '', 'Bad-Name'), ['init']),
      2,
      /schema 'Bad-Name' is not a plain lower-case name/,
    );
    expectError(
      await run('postgres://postgres@127.0.0.1:1/postgres', ['init']),
      5,
      /cannot reach PostgreSQL at postgres:\/\/127\.0\.0\.1:1\/postgres: .*check WARDEN_DB/,
    );
    // A command other than init never creates the schema.
    const missing = newSchema();
    await expect(
      pgHome(missing).then(async (h) => {
        const other = newSchema();
        h.env.WARDEN_DB = wardenDb(URL ?? '', other);
        expectError(await h.run(['list']), 1, /no warden schema in .* run `warden init`/);
        return schemaExists(other);
      }),
    ).resolves.toBe(false);
  });

  it('refuses a schema newer than this build without touching it', async () => {
    const schema = newSchema();
    const cli = await pgHome(schema);
    const db = await PgDriver.connect({ url: URL ?? '', max: 1 });
    await db.exec(`UPDATE ${schema}.meta SET value = '999' WHERE key = 'schema_version'`);
    await db.close();
    const before = await pgSnapshot(schema);
    expectError(
      await cli.run(['create', 'x']),
      1,
      /the database schema is version 999, newer than this warden understands/,
    );
    expectError(await cli.run(['serve', '--port', '0']), 1, /version 999/);
    expect(await pgSnapshot(schema)).toEqual(before);
  });

  it('refuses a host id another live host holds, and options meant for one host', async () => {
    const schema = newSchema();
    const a = await pgHome(schema);
    const b = await pgHome(schema);
    const serveA = a.start(['serve', '--port', '0', '--host-id', 'same', '--host-ttl', '30s']);
    let out = '';
    serveA.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    try {
      await expect.poll(() => out, { timeout: 20_000, interval: 50 }).toMatch(/warden serve: http/);
      // A second serve on the same home is refused, whatever host id it names.
      expectError(
        await a.run(['serve', '--port', '0', '--host-id', 'another']),
        4,
        /warden serve is already running for this home \(host same, pid \d+\)/,
      );
      // The CLI finds this home's serve through its serve.json (the dashboard link).
      const link = await a.run(['open']);
      expect(link.code, link.stderr).toBe(0);
      expect(link.stdout).toMatch(/http:\/\/127\.0\.0\.1:\d+\/login\?/);
      // An open pull lease: a refused serve gives it no time (it gave every lease a TTL).
      expect((await a.run(['profile', 'add', 'agent', '--pull'])).code).toBe(0);
      const created = await a.run(['token', 'create', 'pullers', '--profile', 'agent', '--json']);
      const { token } = JSON.parse(created.stdout) as { token: string };
      const url = /warden serve: (\S+)/.exec(out)?.[1] ?? '';
      const lease = await fetch(`${url}/api/v1/pull/leases`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'a worker' }),
      });
      expect(lease.status).toBe(200);
      const before = await pgSnapshot(schema);
      expect(before.worker_leases).toHaveLength(1);
      expectError(
        await b.run(['serve', '--port', '0', '--host-id', 'same']),
        4,
        /host id 'same' is held by another live host until .*; pick another --host-id/,
      );
      // A serve that cannot listen takes no lease and exits.
      const port = /127\.0\.0\.1:(\d+)/.exec(out)?.[1] ?? '';
      expectError(
        await b.run(['serve', '--port', port, '--host-id', 'other']),
        1,
        new RegExp(`port ${port} on 127\\.0\\.0\\.1 is in use`),
      );
      expectError(
        await b.run(['dispatch', '--once']),
        2,
        /dispatch --once is for one host on SQLite/,
      );
      expectError(await b.run(['serve', '--host-ttl', '1s']), 2, /--host-ttl: must be at least/);
      const after = await pgSnapshot(schema);
      // Host a's own renewals go on meanwhile; nothing else moved.
      expect({ ...after, hosts: undefined }).toEqual({ ...before, hosts: undefined });
      expect((after.hosts as { host_id: string }[]).map((h) => h.host_id)).toEqual(['same']);
    } finally {
      serveA.kill('SIGKILL');
    }
    const sqlite = await createHome();
    homes.push(sqlite);
    expectError(
      await sqlite.run(['serve', '--host-ttl', '30s']),
      2,
      /--host-ttl: host leases are for several hosts on PostgreSQL/,
    );
  });
});
