import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { person } from '../../src/core/actor.js';
import { ManualClock } from '../../src/core/clock.js';
import { WardenError } from '../../src/core/errors.js';
import { openPgStore } from '../../src/store/postgres/open.js';
import { toPgPlaceholders } from '../../src/store/postgres/placeholders.js';
import { runRunSuite } from './runs-suite.js';
import { runStoreSuite } from './suite.js';
import type { StoreFixture } from './suite.js';

/**
 * The store contract on a real PostgreSQL (WARDEN_TEST_PG_URL; .ci/run sets it and starts the
 * server). Each test gets a fresh schema. In CI a missing URL fails rather than skips.
 */
const URL = process.env.WARDEN_TEST_PG_URL;
if (!URL && process.env.CI)
  throw new Error('WARDEN_TEST_PG_URL is not set: the PostgreSQL suite must run in CI');

const schemas: string[] = [];

async function makePg(): Promise<StoreFixture> {
  const schema = `warden_test_${randomBytes(6).toString('hex')}`;
  schemas.push(schema);
  const clock = new ManualClock();
  const store = await openPgStore({ url: URL ?? '', schema, max: 4 }, clock);
  await store.addBoard('default', person('ana'));
  return { store, clock, cleanup: () => store.close() };
}

afterAll(async () => {
  if (!URL) return;
  const client = new pg.Client({ connectionString: URL });
  await client.connect();
  for (const s of schemas) await client.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  await client.end();
});

describe.skipIf(!URL)('PostgreSQL', () => {
  runStoreSuite('postgres', makePg);
  runRunSuite('postgres', makePg);

  it('refuses a schema newer than this build, and an unreachable server, with one clear error', async () => {
    const f = await makePg();
    await f.store.close();
    const schema = schemas.at(-1) ?? '';
    const client = new pg.Client({ connectionString: URL });
    await client.connect();
    await client.query(`UPDATE ${schema}.meta SET value = '999' WHERE key = 'schema_version'`);
    await client.end();
    const err = await openPgStore({ url: URL ?? '', schema }, new ManualClock()).catch(
      (e: unknown) => e,
    );
    expect((err as WardenError).message).toMatch(/schema is version 999, newer than this warden/);
    const down = await openPgStore(
      { url: 'postgres://nobody@127.0.0.1:1/x' },
      new ManualClock(),
    ).catch((e: unknown) => e);
    expect(down).toBeInstanceOf(WardenError);
    expect((down as WardenError).message).toMatch(
      /^cannot reach PostgreSQL at postgres:\/\/127\.0\.0\.1:1\/x: .+; check WARDEN_DB$/,
    );
  });
});

describe('placeholders', () => {
  it('numbers ? outside quotes only', () => {
    expect(toPgPlaceholders("SELECT ? AS a, '?' AS b, \"x?\" AS c WHERE d = ? AND e = '??'")).toBe(
      "SELECT $1 AS a, '?' AS b, \"x?\" AS c WHERE d = $2 AND e = '??'",
    );
  });
});
