/*
 * Issue #11, defect 7: `warden backup` and `warden restore`, with real files and a real serve.
 * A backup is taken while serve runs workers and writes; it is verified and readable. Restore
 * refuses while serve runs or the copy is damaged, keeps the database it replaces, and brings
 * back a home whose warden.db was emptied (defect 3's way back).
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { Task } from '../../src/core/task.js';
import { pidAlive } from '../../src/os/procfs.js';
import { expectError, freshHome } from '../helpers/cli.js';
import { TestHome, fixture, waitFor } from '../helpers/host.js';
import { insertTaskSql, killWriter, startWalWriter } from '../helpers/wal-writer.js';

function digest(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function integrity(path: string): { check: string; tasks: number } {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return {
      check: db.pragma('integrity_check', { simple: true }) as string,
      tasks: (db.prepare('SELECT count(*) AS n FROM tasks').get() as { n: number }).n,
    };
  } finally {
    db.close();
  }
}

const BACKUP_LINE =
  /^backup written: (\S+) \([\d.]+ (?:B|KiB|MiB), schema version \d+, (\d+) tasks; integrity_check found no problems\)\n/;

describe('backup and restore around a running serve', () => {
  it('backs up while serve works, refuses to restore under it, restores once it stops', async () => {
    const home = await new TestHome().init();
    try {
      await home.profile('job', fixture('short-job.sh', '0.05'));
      for (let i = 0; i < 5; i++) await home.task(`before ${i}`, ['--assignee', 'job']);
      const serve = await home.serve();
      // Writes go on while the backup is taken: tasks created and worked meanwhile.
      const creating = Promise.all(
        Array.from({ length: 5 }, (_, i) => home.task(`during ${i}`, ['--assignee', 'job'])),
      );
      const copy = join(home.root, 'copy.db');
      const r = await home.cli(['backup', copy]);
      await creating;
      expect(r.code, r.stderr).toBe(0);
      const m = BACKUP_LINE.exec(r.stdout);
      expect(m?.[1]).toBe(copy);
      // One file: no temp file left, no -wal or -shm beside it.
      expect(readdirSync(home.root).filter((f) => f.startsWith('copy.db'))).toEqual(['copy.db']);
      const checked = integrity(copy);
      expect(checked.check).toBe('ok');
      expect(checked.tasks).toBe(Number(m?.[2]));
      expect(checked.tasks).toBeGreaterThanOrEqual(5);

      expectError(
        await home.cli(['restore', copy]),
        4,
        /warden serve is running for this home \(.*pid \d+.*\); stop it first/,
      );
      serve.proc.kill('SIGTERM');
      expect(await serve.exited).toBe(0);
      const restored = await home.cli(['restore', copy]);
      expect(restored.code, restored.stderr).toBe(0);
      const kept = /the database it replaced is kept at (\S+)\n/.exec(restored.stdout)?.[1];
      expect(kept).toMatch(/warden\.db\.before-restore-\d{8}T\d{6}Z$/);
      expect(existsSync(kept ?? '')).toBe(true);
      const tasks = JSON.parse(await home.ok(['list', '--json', '--archived'])) as Task[];
      expect(tasks).toHaveLength(checked.tasks);
    } finally {
      await home.cleanup();
    }
  });
});

describe('runs open in a restored backup', () => {
  it('a run that completed after the backup was taken ends saying the restore lost its report', async () => {
    const home = await new TestHome().init();
    try {
      // Ten progress calls a second apart, then complete and exit 0: room for a slow backup.
      await home.profile('reporter', fixture('progress-only.sh', '10', '1'));
      const id = await home.task('reports, then completes', ['--assignee', 'reporter']);
      const serve = await home.serve();
      // The backup holds the run open, after the worker used the protocol and before it completed.
      const run = await waitFor('the worker to report', async () =>
        (await home.runs(id)).find((r) => r.used_protocol),
      );
      const copy = join(home.root, 'copy.db');
      const backup = await home.cli(['backup', copy]);
      expect(backup.code, backup.stderr).toBe(0);
      expect((await home.waitStatus(id, 'done')).current_run_id).toBeNull();
      serve.proc.kill('SIGTERM');
      expect(await serve.exited).toBe(0);

      await home.closeStore();
      const restored = await home.cli(['restore', copy]);
      expect(restored.code, restored.stderr).toBe(0);
      expect(restored.stdout).toContain(`1 run open in the backup (${run.id}): the next serve`);
      await home.serve();
      const ended = await waitFor('the restored run to be booked', async () =>
        (await home.runs(id)).find((r) => r.id === run.id && r.state === 'ended'),
      );
      expect(ended.outcome).toBe('crashed');
      expect(ended.reason?.message).toMatch(
        new RegExp(
          `^the worker used the worker protocol but exited 0 without calling complete; the home's database was restored from .+copy\\.db at \\S+ while this run was open, so what its worker reported after that backup was taken is not in it: \`warden log ${id} --run ${run.id}\` shows what it did$`,
        ),
      );
      await home.ok(['archive', String(id)]);
    } finally {
      await home.cleanup();
    }
  }, 60_000);
});

describe('a backup restored into another home while its own home runs on', () => {
  it("serves there, and books the runs open in it as the first home's, never touching their workers", async () => {
    const first = await new TestHome().init();
    const second = new TestHome();
    try {
      await first.profile('sleeper', fixture('sleeper.sh', '60'));
      const id = await first.task('sleeps on', ['--assignee', 'sleeper']);
      await first.serve();
      const worker = await waitFor('the worker to start', () =>
        first.lifeLines().find((l) => l.task === id && l.event === 'start'),
      );
      const copy = join(first.root, 'copy.db');
      expect((await first.cli(['backup', copy])).code).toBe(0);

      // The copy's hosts row names the first home's serve, alive: it holds that home, not this.
      const restored = await second.cli(['restore', copy]);
      expect(restored.code, restored.stderr).toBe(0);
      const [open] = await first.runs(id);
      expect(restored.stdout).toContain(
        `1 run open in the backup (${open?.id}) started from another home (their logs are in its runs/): the next serve here ends them host_lost`,
      );
      expect(restored.stdout).not.toContain('the next serve adopts');
      // The database's admin token is the first home's (restore says to bring it along).
      copyFileSync(join(first.root, 'admin.token'), join(second.root, 'admin.token'));
      const doctor = await second.cli(['doctor']);
      expect(doctor.code, doctor.stderr).toBe(0);
      expect(doctor.stdout).toMatch(/^no warden serve is running for this home\n/);
      // Of the copied run: not "nothing watches it", which would send a person to watch it here.
      expect(doctor.stdout).toContain(
        `task ${id} "sleeps on": attempt 1 on ${open?.host_id ?? '?'}, pid ${open?.process?.pid ?? '?'}: started from another home (its log is in ${join(first.root, 'runs')}), whose database this one is a copy of: if it still runs it belongs there; serve here does not watch or signal it, and ends the run host_lost when it starts`,
      );
      expect(doctor.stdout).not.toContain('nothing watches it now');
      // Its retry here is not this test's: the profile starts nothing in this home.
      await second.ok(['profile', 'pause', 'sleeper']);
      await second.serve();
      const lost = await waitFor('the copied run to be booked', async () =>
        (await second.runs(id)).find((r) => r.state === 'ended'),
      );
      expect(lost.outcome).toBe('host_lost');
      expect(lost.reason?.message).toMatch(/^the worker was started from another home/);
      expect((await second.getTask(id)).counters.failures).toBe(0);
      // The first home's worker and run are untouched.
      expect(pidAlive(worker.pid)).toBe(true);
      expect((await first.runs(id))[0]?.state).toBe('running');
      await first.ok(['stop', String(id)]);
    } finally {
      // The first home is cleaned up (its serve stopped) even when the second's cleanup throws.
      await second.cleanup().finally(() => first.cleanup());
    }
  }, 60_000);
});

describe('warden backup', () => {
  it.concurrent(
    'refuses an existing file unless --force, and names a folder’s copy by time',
    async (ctx) => {
      const cli = await freshHome(ctx);
      await cli.json(['create', 'one']);
      const path = join(cli.home, 'b.db');
      writeFileSync(path, 'not mine to overwrite');
      expectError(
        await cli.run(['backup', path]),
        4,
        /b\.db exists; pick another path, or pass --force to replace it/,
      );
      expect(readFileSync(path, 'utf8')).toBe('not mine to overwrite');
      const forced = await cli.run(['backup', path, '--force']);
      expect(forced.code, forced.stderr).toBe(0);
      expect(integrity(path)).toEqual({ check: 'ok', tasks: 1 });
      const folder = join(cli.home, 'runs');
      const dated = await cli.run(['backup', folder]);
      expect(dated.stdout).toMatch(/backup written: .+\/runs\/warden-\d{8}T\d{6}Z\.db /);
      expectError(
        await cli.run(['backup', join(cli.home, 'warden.db')]),
        2,
        /is the database itself/,
      );
      expectError(await cli.run(['backup', '']), 2, /PATH: must not be empty/);
      expectError(
        await cli.run(['backup', join(cli.home, 'no', 'such', 'b.db')]),
        2,
        /does not exist; make the folder first/,
      );
      const json = await cli.json<{ path: string; tasks: number; schema_version: number }>([
        'backup',
        join(cli.home, 'j.db'),
      ]);
      expect(json).toMatchObject({ path: join(cli.home, 'j.db'), tasks: 1 });
    },
  );
});

describe('warden restore', () => {
  it.concurrent(
    'checks the copy first: a damaged, missing or foreign copy changes nothing',
    async (ctx) => {
      const cli = await freshHome(ctx);
      await cli.json(['create', 'keep me']);
      const db = join(cli.home, 'warden.db');
      const before = digest(db);
      const copy = join(cli.home, 'copy.db');
      expect((await cli.run(['backup', copy])).code).toBe(0);
      const bytes = readFileSync(copy);
      bytes.set(randomBytes(4096), Math.floor(bytes.length / 2 / 4096) * 4096);
      writeFileSync(copy, bytes);
      expectError(
        await cli.run(['restore', copy]),
        7,
        /^warden: the backup .+copy\.db failed the (integrity_check|header check): .+; the home was not touched\. Restore another backup\n$/,
      );
      expectError(await cli.run(['restore', cli.home]), 2, /is not a file; give the backup file/);
      expectError(await cli.run(['restore', ' ']), 2, /PATH: must not be empty/);
      expectError(
        await cli.run(['restore', join(cli.home, 'nope.db')]),
        3,
        /nope\.db does not exist/,
      );
      writeFileSync(copy, '');
      expectError(
        await cli.run(['restore', copy]),
        7,
        /copy\.db failed the header check: the file is empty/,
      );
      expect(digest(db)).toBe(before);
      expect(readdirSync(cli.home).filter((f) => f.includes('before-restore'))).toEqual([]);
    },
  );

  it.concurrent(
    'says so when the home has no admin.token for the restored database',
    async (ctx) => {
      const from = await freshHome(ctx);
      await from.json(['create', 'one']);
      const copy = join(from.home, 'copy.db');
      expect((await from.run(['backup', copy])).code).toBe(0);
      const to = await freshHome(ctx, { init: false });
      const r = await to.run(['restore', copy]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(
        `note: ${join(to.home, 'admin.token')} is missing; put back the admin.token kept with the backup\n`,
      );
    },
  );

  it.concurrent('brings back an emptied warden.db, keeping the empty file aside', async (ctx) => {
    const cli = await freshHome(ctx);
    await cli.json(['create', 'first']);
    await cli.json(['create', 'second']);
    const copy = join(cli.home, 'copy.db');
    expect((await cli.run(['backup', copy])).code).toBe(0);
    const db = join(cli.home, 'warden.db');
    writeFileSync(db, '');
    expectError(await cli.run(['list']), 7, /failed the header check: the file is empty/);
    // Folders of a run and a task made after the backup: the restored database will hand
    // their ids out again, so they must not be found there by new runs and tasks.
    mkdirSync(join(cli.home, 'runs', '1'));
    writeFileSync(join(cli.home, 'runs', '1', 'exit'), '0\n');
    mkdirSync(join(cli.home, 'workspaces', '2'));
    mkdirSync(join(cli.home, 'workspaces', '3'));
    const r = await cli.run(['restore', copy]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /^restored .+copy\.db to .+warden\.db \([\d.]+ KiB, schema version \d+, 2 tasks; integrity_check found no problems\)\n/,
    );
    const kept = /kept at (\S+)\n/.exec(r.stdout)?.[1] ?? '';
    expect(statSync(kept).size).toBe(0);
    expect(r.stdout).toMatch(/2 run folders and workspaces newer than the backup were renamed/);
    const stamp = /before-restore-(\d{8}T\d{6}Z)/.exec(kept)?.[1] ?? '';
    expect(readdirSync(join(cli.home, 'runs'))).toEqual([`1.before-restore-${stamp}`]);
    expect(readdirSync(join(cli.home, 'workspaces')).sort()).toEqual(
      ['2', `3.before-restore-${stamp}`].sort(),
    );
    const tasks = await cli.json<Task[]>(['list']);
    expect(tasks.map((t) => t.title).sort()).toEqual(['first', 'second']);
  });

  it.concurrent(
    'keeps a stale -wal with the database it replaces, and refuses while a process holds it',
    async (ctx) => {
      const cli = await freshHome(ctx);
      await cli.json(['create', 'in the backup']);
      const copy = join(cli.home, 'copy.db');
      expect((await cli.run(['backup', copy])).code).toBe(0);
      const db = join(cli.home, 'warden.db');
      // A writer that commits into the WAL (no checkpoint) and is then SIGKILLed: it leaves
      // warden.db-wal holding a committed task, and a warden.db-shm.
      const writer = await startWalWriter(db, insertTaskSql('only in the wal'));
      expectError(
        await cli.run(['restore', copy]),
        4,
        new RegExp(`warden\\.db is open in process ${writer.pid}`),
      );
      await killWriter(writer);
      expect(existsSync(`${db}-wal`)).toBe(true);
      const r = await cli.run(['restore', copy]);
      expect(r.code, r.stderr).toBe(0);
      const kept = /kept at (\S+)\n/.exec(r.stdout)?.[1] ?? '';
      expect(existsSync(`${db}-wal`)).toBe(false);
      expect(existsSync(`${db}-shm`)).toBe(false);
      expect(existsSync(`${kept}-wal`)).toBe(true);
      const titles = (await cli.json<Task[]>(['list'])).map((t) => t.title);
      expect(titles).toEqual(['in the backup']);
      // The kept database still holds what its WAL had committed.
      const old = new Database(kept, { readonly: true });
      const oldTitles = (
        old.prepare('SELECT title FROM tasks ORDER BY id').all() as { title: string }[]
      ).map((t) => t.title);
      old.close();
      expect(oldTitles).toEqual(['in the backup', 'only in the wal']);
    },
  );
});

describe('a database put back by hand (pg_restore, a copied file) behind its home’s folders', () => {
  it('serve starts new runs and tasks after the ids the folders hold, and says so', async () => {
    const home = await new TestHome().init();
    try {
      // Folders of a run and a task made after the backup the database came from.
      mkdirSync(join(home.root, 'runs', '40'), { recursive: true });
      writeFileSync(join(home.root, 'runs', '40', 'output.log'), 'an old worker writes here\n');
      mkdirSync(join(home.root, 'workspaces', '30'), { recursive: true });
      await home.profile('quick', ['true']);
      const serve = await home.serve();
      expect(serve.output()).toContain(
        "the database gave out ids this home's folders already hold, as one put back from a backup does: new run ids after 40 (runs/40) and task ids after 30 (its workspaces) are used from now on",
      );
      const id = await home.task('after the restore', ['--assignee', 'quick']);
      expect(id).toBe(31);
      await home.waitStatus(id, 'done');
      const [run] = await home.runs(id);
      expect(run?.id).toBe(41);
      expect(readFileSync(join(home.root, 'runs', '40', 'output.log'), 'utf8')).toBe(
        'an old worker writes here\n',
      );
    } finally {
      await home.cleanup();
    }
  });
});
