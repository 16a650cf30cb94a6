import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll } from 'vitest';

/**
 * Fresh PostgreSQL schemas for a test file (WARDEN_TEST_PG_URL), each dropped after the file.
 * Without the URL the file's PostgreSQL tests are skipped, except in CI, where that is an error.
 */
export const PG_URL = process.env.WARDEN_TEST_PG_URL;
if (!PG_URL && process.env.CI)
  throw new Error('WARDEN_TEST_PG_URL is not set: the PostgreSQL suite must run in CI');

const made: string[] = [];
afterAll(async () => {
  if (!PG_URL || made.length === 0) return;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  for (const s of made.splice(0)) await admin.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  await admin.end();
});

/** A new schema's name, dropped when the test file ends. */
export function freshPgSchema(): string {
  const schema = `warden_test_${randomBytes(6).toString('hex')}`;
  made.push(schema);
  return schema;
}
