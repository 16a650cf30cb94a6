/*
 * Issue #11, defect 8: a read-only home, a full disk and an unreachable PostgreSQL read
 * "unexpected error: ..." with no advice, and on a read-only home even `list` failed. Here on
 * real file systems (a tmpfs remounted read-only, a tmpfs filled to the last byte): reading
 * commands work, writing ones are refused with one line saying what to do and a documented
 * exit code, and the database's bytes are the same afterwards.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CliResult } from '../helpers/cli.js';
import { WARDEN_BIN, expectError, freshHome, runWarden } from '../helpers/cli.js';
import { waitFor } from '../helpers/host.js';
import { canMount, mountTmpfs } from '../helpers/mount.js';
import type { Tmpfs } from '../helpers/mount.js';
import { insertTaskSql, killWriter, startWalWriter } from '../helpers/wal-writer.js';

const mounts: Tmpfs[] = [];
afterEach(() => {
  for (const m of mounts.splice(0)) m.remove();
});

function digest(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** A home on a fresh tmpfs of `bytes`, set up, with two tasks. */
async function homeOnTmpfs(bytes: number): Promise<{
  fs: Tmpfs;
  db: string;
  run: (args: readonly string[]) => Promise<CliResult>;
}> {
  const fs = mountTmpfs(bytes);
  mounts.push(fs);
  const env = { ...process.env, WARDEN_HOME: join(fs.dir, 'home') };
  const run = (args: readonly string[]): Promise<CliResult> => runWarden(args, env);
  for (const args of [
    ['init', '--name', 'alice'],
    ['create', 'first'],
    ['create', 'second'],
  ]) {
    const r = await run(args);
    if (r.code !== 0) throw new Error(`warden ${args.join(' ')}: ${r.stderr}`);
  }
  return { fs, db: join(fs.dir, 'home', 'warden.db'), run };
}

const mountable = canMount();

describe.skipIf(!mountable)('a read-only home (a tmpfs remounted read-only)', () => {
  it('reads work; writes are refused with exit 6 and the database is unchanged', async () => {
    const { fs, db, run } = await homeOnTmpfs(4 * 1024 * 1024);
    const before = digest(db);
    fs.remount('ro');
    const list = await run(['list']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/first[\s\S]*second|second[\s\S]*first/);
    for (const args of [
      ['show', '1'],
      ['runs', '1'],
      ['events'],
      ['stats'],
      ['doctor'],
      ['board', 'list'],
      ['profile', 'list'],
      ['check'],
    ]) {
      const r = await run(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
    for (const args of [
      ['create', 'third'],
      ['edit', '1', '--title', 'x'],
      ['done', '2'],
      ['board', 'add', 'ops'],
    ]) {
      expectError(
        await run(args),
        6,
        /warden\.db is read-only \(EROFS\); this command writes, so nothing was done\. Reading commands .* still work; to write, remount it read-write/,
        args.join(' '),
      );
    }
    fs.remount('rw');
    expect(digest(db)).toBe(before);
  });
});

describe.skipIf(!mountable)('a read-only home whose -wal holds commits', () => {
  it('is read with its -shm; without one, refused in one line saying what to do', async () => {
    const { fs, db, run } = await homeOnTmpfs(4 * 1024 * 1024);
    await killWriter(await startWalWriter(db, insertTaskSql('only in the wal')));
    fs.remount('ro');
    const list = await run(['list']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/only in the wal/);
    fs.remount('rw');
    rmSync(`${db}-shm`);
    const before = digest(`${db}-wal`);
    fs.remount('ro');
    expectError(
      await run(['list']),
      6,
      /warden\.db cannot be read here: its warden\.db-wal holds changes not yet in the file, and SQLite needs to make warden\.db-shm beside it .*; mount it read-write once/,
    );
    fs.remount('rw');
    expect(digest(`${db}-wal`)).toBe(before);
  });
});

describe.skipIf(!mountable)('a full disk (a small tmpfs filled up)', () => {
  it('a write is refused with exit 6 and what to do; reads still work; nothing changes', async () => {
    const { fs, db, run } = await homeOnTmpfs(1024 * 1024);
    const before = digest(db);
    // A disk smaller than 64 MiB is not "nearly full" for being small: a quarter free is room.
    const roomy = await run(['doctor']);
    expect(roomy.code, roomy.stderr).toBe(0);
    expect(roomy.stdout).not.toContain('the disk of this home');
    // Fill every byte left: a file grown until the kernel says ENOSPC.
    const filler = join(fs.dir, 'filler');
    const chunk = Buffer.alloc(64 * 1024);
    try {
      for (;;) writeFileSync(filler, chunk, { flag: 'a' });
    } catch (err) {
      expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
    }
    const r = await run(['create', 'third']);
    expectError(
      r,
      6,
      /warden\.db: the disk is full \(.+\); nothing was written\. Free space on .+ \(`df -h .+`; `warden gc --older-than 30d` removes old runs' logs and workspaces\), then try again/,
    );
    const list = await run(['list']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/second/);
    // doctor says it first, as no task's line can.
    const doctor = await run(['doctor']);
    expect(doctor.code, doctor.stderr).toBe(0);
    expect(doctor.stdout.split('\n')[1]).toMatch(
      /^the disk of this home \(.+\) has 0 B free: nothing can be written, not the database, nor the runs’ logs and reports; free space/,
    );
    expect(digest(db)).toBe(before);
  });

  it('serve says the disk error once, and when its tick runs through again says no more than that', async () => {
    const { fs, run } = await homeOnTmpfs(4 * 1024 * 1024);
    expect((await run(['profile', 'add', 'job', '--', 'true'])).code).toBe(0);
    // Due in a moment: its claim is serve's first write after the disk is full.
    expect((await run(['create', 'later', '--assignee', 'job', '--not-before', '3s'])).code).toBe(
      0,
    );
    const serve = spawn(process.execPath, [WARDEN_BIN, 'serve', '--port', '0', '--tick', '200ms'], {
      env: { ...process.env, WARDEN_HOME: join(fs.dir, 'home') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    serve.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    serve.stderr.setEncoding('utf8').on('data', (c: string) => (out += c));
    const exited = once(serve, 'exit');
    try {
      await waitFor('serve to listen', () => out.includes('warden serve: '));
      const filler = join(fs.dir, 'filler');
      try {
        for (;;) writeFileSync(filler, Buffer.alloc(64 * 1024), { flag: 'a' });
      } catch (err) {
        expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
      }
      await waitFor('the failed tick', () => /tick: .*disk is full/i.test(out), 20_000);
      rmSync(filler);
      await waitFor('the tick to run through', () => out.includes('tick: ran through again'));
      expect(out).toContain(
        'tick: ran through again; the storage error above may come back at the next write (is there room again? `df -h`)',
      );
      expect(out).not.toContain('the store answers again');
      expect(out.match(/tick: .*disk is full/gi)).toHaveLength(1);
    } finally {
      serve.kill('SIGTERM');
      await exited;
    }
  });

  it('warden gc, as the message says, makes room on a disk at 0 bytes free', async () => {
    const { fs, run } = await homeOnTmpfs(1024 * 1024);
    // Task 1 is done, and its workspace holds 192 KiB.
    expect((await run(['done', '1'])).code).toBe(0);
    const workspace = join(fs.dir, 'home', 'workspaces', '1');
    mkdirSync(workspace);
    writeFileSync(join(workspace, 'result.bin'), Buffer.alloc(192 * 1024, 1));
    const filler = join(fs.dir, 'filler');
    try {
      for (;;) writeFileSync(filler, Buffer.alloc(16 * 1024), { flag: 'a' });
    } catch {
      // ENOSPC: full.
    }
    expectError(await run(['create', 'third']), 6, /the disk is full/);
    const gc = await run(['gc', '--older-than', '1ms']);
    expect(gc.code, gc.stderr).toBe(0);
    expect(gc.stdout).toMatch(/removed workspace .+\/workspaces\/1 \(192\.0 KiB\)/);
    expect(gc.stdout).toMatch(
      /gc: removed \d+ events \(of 1 task\), 0 run folders and 1 workspace/,
    );
    const create = await run(['create', 'third']);
    expect(create.code, create.stderr).toBe(0);
  });
});

describe('PostgreSQL that does not answer', () => {
  it.concurrent('is one line with exit 5 for any command, not an unexpected error', async (ctx) => {
    const cli = await freshHome(ctx);
    const env = {
      ...cli.env,
      WARDEN_DB: 'postgres://warden:secret@127.0.0.1:1/warden?schema=agents',
    };
    for (const args of [
      ['list'],
      ['create', 'x'],
      ['check'],
      ['backup', join(cli.home, 'b.dump')],
    ]) {
      const r = await runWarden(args, env);
      expectError(
        r,
        5,
        /^warden: cannot reach PostgreSQL at postgres:\/\/127\.0\.0\.1:1\/warden: connect ECONNREFUSED .+; is it running\? try again, or check WARDEN_DB\n$/,
        args.join(' '),
      );
      expect(r.stderr).not.toMatch(/secret/);
    }
  });
});
