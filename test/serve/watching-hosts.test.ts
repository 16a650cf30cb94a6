/**
 * Several hosts: which hosts `doctor` counts as watching their runs. A host's lease says it is
 * alive for up to a TTL after its `serve` was killed; run from that host's home, its recorded
 * `serve.json` says otherwise (a trial's doctor said "serve will book its exit" there).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { homePaths } from '../../src/config/home.js';
import { ManualClock } from '../../src/core/clock.js';
import { identify } from '../../src/os/procfs.js';
import { watchingHostIds } from '../../src/serve/find.js';
import { openPgStore } from '../../src/store/postgres/open.js';
import { PG_URL, freshPgSchema } from '../helpers/pg-schemas.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe.skipIf(!PG_URL)('the hosts that watch their runs', () => {
  it("are those whose lease is good, less this home's own host when its serve is dead", async () => {
    const store = await openPgStore(
      { url: PG_URL ?? '', schema: freshPgSchema(), max: 2 },
      new ManualClock(),
    );
    try {
      for (const host of ['a', 'b', 'gone']) {
        const lease = host === 'gone' ? '- 1000' : '+ 600000';
        await store.pg.run(
          `INSERT INTO hosts (host_id, url, started_at, renewed_at, lease_expires_at)
           VALUES (?, 'http://127.0.0.1:9', 0, 0, CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT) ${lease})`,
          [host],
        );
      }
      const dir = mkdtempSync(join(tmpdir(), 'warden-watch-'));
      dirs.push(dir);
      const home = homePaths(dir);
      const where = {
        kind: 'postgres' as const,
        shown: 'pg',
        url: PG_URL ?? '',
        schema: undefined,
      };
      const lookup = { store, home, where } as Parameters<typeof watchingHostIds>[0];
      // No serve.json here: every host whose lease is good.
      expect([...(await watchingHostIds(lookup))].sort()).toEqual(['a', 'b']);

      // This home's serve was host b, and is dead (a process that has exited).
      const child = spawnSync('true');
      expect(child.status).toBe(0);
      const me = identify(process.pid);
      if (me === null) throw new Error('cannot read this process');
      const dead = { ...me, pid: child.pid ?? 1, start_time: '1' };
      const lock = (process: unknown): void =>
        writeFileSync(home.serveLock, JSON.stringify({ host_id: 'b', url: 'http://x', process }));
      lock(dead);
      expect([...(await watchingHostIds(lookup))].sort()).toEqual(['a']);
      // Alive (this test's own process stands for it): b watches its runs.
      lock(me);
      expect([...(await watchingHostIds(lookup))].sort()).toEqual(['a', 'b']);
    } finally {
      await store.close();
    }
  });
});
