/*
 * docs/security.md: the home is closed to other users. Its database holds notification secrets
 * and the workers' environments, and on SQLite nothing but file modes guards it: a home made
 * in a folder that was there already (0755 under umask 022) is closed too, the database and a
 * backup's copy are the owner's alone.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WARDEN_BIN, freshHome } from '../helpers/cli.js';

const modeOf = (path: string): number => statSync(path).mode & 0o777;

describe('the home and its database are closed to other users', () => {
  it.concurrent(
    'init closes a folder that was there, and the database; backup writes 0600',
    async (ctx) => {
      const cli = await freshHome(ctx, { init: false });
      chmodSync(cli.home, 0o755);
      expect((await cli.run(['init', '--name', 'alice'])).code).toBe(0);
      expect(modeOf(cli.home)).toBe(0o700);
      for (const dir of ['runs', 'workspaces']) expect(modeOf(join(cli.home, dir))).toBe(0o700);
      expect(modeOf(join(cli.home, 'admin.token'))).toBe(0o600);
      const db = join(cli.home, 'warden.db');
      await cli.json(['create', 'one']);
      for (const file of [db, `${db}-wal`, `${db}-shm`])
        if (existsSync(file)) expect(modeOf(file), file).toBe(0o600);
      const r = await cli.run(['backup', cli.home]);
      expect(r.code, r.stderr).toBe(0);
      const copy = readdirSync(cli.home).find((f) => /^warden-\d{8}T\d{6}Z\.db$/.test(f)) ?? '';
      expect(modeOf(join(cli.home, copy))).toBe(0o600);
      // A home made before init closed it: init again closes it, and changes nothing else.
      chmodSync(cli.home, 0o755);
      chmodSync(db, 0o644);
      const before = cli.dbSnapshot();
      expect((await cli.run(['init'])).code).toBe(0);
      expect([modeOf(cli.home), modeOf(db)]).toEqual([0o700, 0o600]);
      expect(cli.dbSnapshot()).toEqual(before);
    },
  );

  it.concurrent(
    'a relative WARDEN_HOME is taken from the current directory, and named whole',
    (ctx) => {
      const dir = mkdtempSync(join(tmpdir(), 'warden-relative-'));
      ctx.onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
      const r = spawnSync(process.execPath, [WARDEN_BIN, 'init', '--name', 'alice'], {
        cwd: dir,
        env: { ...process.env, WARDEN_HOME: 'relhome' },
        encoding: 'utf8',
      });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain(`warden home ready at ${join(dir, 'relhome')}`);
      expect(modeOf(join(dir, 'relhome'))).toBe(0o700);
    },
  );
});
