import { describe, expect, it } from 'vitest';
import { TestHome, fixture, waitFor } from '../helpers/host.js';

/** `warden hosts`: the serves of a store, live, gone or stopped, on one host's SQLite. */
describe('warden hosts', () => {
  it('lists the home’s serve: none yet, live with its open runs, gone once killed, stopped once it says so', async () => {
    const home = await new TestHome().init();
    try {
      const json = async (): Promise<Record<string, unknown>[]> => {
        const r = await home.cli(['hosts', '--json']);
        expect(r.code, r.stderr).toBe(0);
        return JSON.parse(r.stdout) as Record<string, unknown>[];
      };
      expect((await home.ok(['hosts'])).trim()).toBe(
        'no host has run serve on this store yet; start one with `warden serve`',
      );
      await home.profile('sleeper', fixture('sleeper.sh', '60'));
      const id = await home.task('sleeps', ['--assignee', 'sleeper']);
      const first = await home.serve(['--max-workers', '3']);
      await home.waitStatus(id, 'running');
      const [live] = await json();
      expect(live).toMatchObject({
        state: 'live',
        url: first.url,
        open_runs: 1,
        max_workers: 3,
        process: { pid: first.proc.pid },
      });
      expect(await home.ok(['hosts'])).toMatch(
        /^HOST +STATE +URL +PID +STARTED +OPEN RUNS +MAX WORKERS\n\S+ +live +http:\/\/127\.0\.0\.1:\d+ +\d+ +\S+ ago +1 +3\n$/,
      );
      first.proc.kill('SIGKILL');
      await first.exited;
      expect((await json())[0]).toMatchObject({ state: 'gone', open_runs: 1 });
      // The next serve adopts the run; stopped, it says so.
      const second = await home.serve();
      await waitFor('the new serve', async () => (await json())[0]?.state === 'live');
      await home.ok(['stop', String(id)]);
      second.proc.kill('SIGTERM');
      await second.exited;
      expect((await json())[0]).toMatchObject({ state: 'stopped', open_runs: 0 });
    } finally {
      await home.cleanup();
    }
  });
});
