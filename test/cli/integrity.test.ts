/*
 * Issue #11, defects 2 and 3, reproduced as they were found: a database with random bytes
 * written into its middle, and a zero-byte warden.db. Every command refuses them with one line
 * naming the file, the check that failed and the way back (exit 7), and the file's bytes are
 * the same afterwards: nothing was written to it, nothing was recreated.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  openSync,
  readFileSync,
  readdirSync,
  writeFileSync,
  writeSync,
  closeSync,
} from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { Cli } from '../helpers/cli.js';
import { expectError, freshHome } from '../helpers/cli.js';

function digest(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** A home with a database of some size: a few tasks made by the CLI, and 3,000 events. */
async function filledHome(ctx: Parameters<typeof freshHome>[0]): Promise<Cli> {
  const cli = await freshHome(ctx);
  for (const title of ['one', 'two', 'three']) await cli.json(['create', title]);
  const db = new Database(join(cli.home, 'warden.db'));
  const insert = db.prepare(
    "INSERT INTO events (board, task_id, run_id, actor, kind, payload, at) VALUES ('default', 1, NULL, 'person:alice', 'task_commented', ?, ?)",
  );
  db.transaction(() => {
    for (let i = 0; i < 3000; i++) insert.run(JSON.stringify({ note: 'x'.repeat(80), i }), i);
  })();
  db.close();
  return cli;
}

/**
 * Writes one page of random bytes over a page in the middle of the file that holds rows (a
 * leaf of the events table), so the damage is where data is, not in free space.
 */
function corruptMiddle(path: string): void {
  const db = new Database(path, { readonly: true });
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const pages = (
    db
      .prepare(
        "SELECT pageno FROM dbstat WHERE name = 'events' AND pagetype = 'leaf' ORDER BY pageno",
      )
      .all() as { pageno: number }[]
  ).map((r) => r.pageno);
  db.close();
  const middle = pages[Math.floor(pages.length / 2)];
  if (middle === undefined) throw new Error('no leaf pages to corrupt');
  // Random, but not by chance a valid b-tree page type, so a read of the page must fail.
  let bytes = randomBytes(pageSize);
  while ([2, 5, 10, 13].includes(bytes[0] ?? 0)) bytes = randomBytes(pageSize);
  const fd = openSync(path, 'r+');
  writeSync(fd, bytes, 0, pageSize, (middle - 1) * pageSize);
  closeSync(fd);
}

const RESTORE = /warden restore BACKUP/;

describe('a corrupt database (random bytes in its middle)', () => {
  it.concurrent(
    'is refused by writing commands and serve, named with its check, and left unchanged',
    async (ctx) => {
      const cli = await filledHome(ctx);
      const path = join(cli.home, 'warden.db');
      corruptMiddle(path);
      const before = digest(path);
      const named = new RegExp(
        `^warden: ${path.replaceAll('/', '\\/')} failed the quick_check: .+; nothing was written to it`,
      );
      for (const args of [
        ['create', 'after the damage'],
        ['edit', '1', '--title', 'x'],
        ['done', '2'],
      ]) {
        const r = await cli.run(args);
        expectError(r, 7, named, args.join(' '));
        expect(r.stderr).toMatch(RESTORE);
      }
      const serve = await cli.run(['serve', '--port', '0']);
      expectError(serve, 7, /failed the integrity_check: .+nothing was written to it/);
      const check = await cli.run(['check']);
      expectError(check, 7, /failed the integrity_check/);
      // A reading command runs no check of its own, but SQLite's reading of the damaged page is
      // said the same way, not as "unexpected error: database disk image is malformed".
      expectError(
        await cli.run(['events', '--task', '1', '--limit', '10000']),
        7,
        /warden\.db failed the read check: database disk image is malformed \(SQLITE_CORRUPT\w*\); nothing was written to it/,
      );
      expect(digest(path)).toBe(before);
    },
  );
});

describe('an empty warden.db', () => {
  it.concurrent('is refused by every command, never given a fresh schema', async (ctx) => {
    const cli = await freshHome(ctx);
    await cli.json(['create', 'a task that must not vanish']);
    const path = join(cli.home, 'warden.db');
    writeFileSync(path, '');
    const files = readdirSync(cli.home).sort();
    for (const args of [
      ['list'],
      ['create', 'x'],
      ['stats'],
      ['init'],
      ['serve', '--port', '0'],
      ['check'],
      ['backup', join(cli.home, 'copy.db')],
    ]) {
      expectError(
        await cli.run(args),
        7,
        /warden\.db failed the header check: the file is empty \(0 bytes\); nothing was written to it\. To go on, restore a backup with `warden restore BACKUP`/,
        args.join(' '),
      );
    }
    expect(readFileSync(path)).toHaveLength(0);
    expect(readdirSync(cli.home).sort()).toEqual(files);
  });

  it.concurrent.for([
    {
      what: 'shorter than a header',
      bytes: randomBytes(50),
      message: /the file is 50 bytes, shorter than a SQLite header/,
    },
    {
      what: 'not SQLite',
      bytes: randomBytes(8192),
      message: /its first 16 bytes are not "SQLite format 3\\0"/,
    },
  ])('a file $what is refused the same way', async (c, ctx) => {
    const cli = await freshHome(ctx);
    const path = join(cli.home, 'warden.db');
    writeFileSync(path, c.bytes);
    expectError(await cli.run(['create', 'x']), 7, c.message);
    expectError(await cli.run(['list']), 7, c.message);
    expect(readFileSync(path).equals(c.bytes)).toBe(true);
    expect(existsSync(`${path}-wal`)).toBe(false);
  });

  it.concurrent('a SQLite database that is not warden’s is refused, not migrated', async (ctx) => {
    const cli = await freshHome(ctx);
    const path = join(cli.home, 'warden.db');
    writeFileSync(path, '');
    const other = new Database(join(cli.home, 'other.db'));
    other.exec('CREATE TABLE notes (body TEXT)');
    other.close();
    writeFileSync(path, readFileSync(join(cli.home, 'other.db')));
    const before = digest(path);
    expectError(
      await cli.run(['create', 'x']),
      7,
      /failed the schema check: it is a SQLite database but not a warden one/,
    );
    expect(digest(path)).toBe(before);
  });
});
