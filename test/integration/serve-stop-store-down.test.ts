/*
 * `serve` stopped while its store is away (a private PostgreSQL, stopped): every step of the
 * stop is still taken, each failure logged, and the process exits 0; before, the first failed
 * write (the last progress) skipped every step after it and ended `serve` with an unhandled
 * rejection (exit 1).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { person } from '../../src/core/actor.js';
import { waitFor } from '../helpers/host.js';
import type { TestHome } from '../helpers/host.js';
import { killWorkers, openShared, pgHomes, shimGroups } from '../helpers/hosts.js';
import { PG_URL } from '../helpers/pg-schemas.js';
import { groupAlive } from '../../src/os/procfs.js';
import { PrivatePg } from '../helpers/private-pg.js';

let home: TestHome | null = null;
let privatePg: PrivatePg | null = null;

afterEach(async () => {
  if (home) killWorkers(home.root);
  await home?.cleanup();
  home = null;
  privatePg?.destroy();
  privatePg = null;
});

describe.skipIf(!PG_URL)('stopping serve while its store is away', () => {
  it('takes every step, says what failed, and exits', async () => {
    privatePg = await PrivatePg.create();
    const [h] = (await pgHomes(privatePg.url, 'public', 1, '/dev/null')) as [TestHome];
    home = h;
    // A worker that reports progress all the time, and marks when its first report was taken;
    // with a flush interval of an hour, that progress is written only at the stop.
    await h.profile('reporter', [
      'sh',
      '-c',
      'while :; do warden worker progress --note busy && touch "$WARDEN_RUN_DIR/reported"; sleep 0.2; done',
    ]);
    const shared = await openShared(privatePg.url, 'public');
    await shared.createTask({ title: 'report', assignee: 'reporter' }, person('ana'));
    await shared.close();
    const serve = await h.serve(['--host-id', 'a', '--progress-flush', '1h']);
    const runs = join(h.root, 'runs');
    const reported = (): boolean =>
      existsSync(runs) && readdirSync(runs).some((d) => existsSync(join(runs, d, 'reported')));
    await waitFor('a progress report taken', reported, 30_000);

    privatePg.stop();
    serve.proc.kill('SIGTERM');
    const code = await waitFor(
      'serve to exit',
      () => (serve.proc.exitCode !== null ? serve.proc.exitCode : undefined),
      60_000,
    );
    expect(code).toBe(0);
    expect(serve.output()).toMatch(/stop: the last progress: /);
    // The worker was left running, as a stop of serve leaves it (adopted by the next serve).
    const groups = shimGroups(h.root);
    expect(groups).toHaveLength(1);
    killWorkers(h.root);
    await waitFor('the worker gone', () => groups.every((g) => !groupAlive(g)), 10_000);
  }, 120_000);
});
