/**
 * The SDK client's inbox (issue #15) against a real `warden serve`: what waits for a person,
 * with the command that clears it, and a board that does not exist refused with its code.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WardenError } from '../../src/core/errors.js';
import { createClient } from '../../src/sdk/client.js';
import { TestHome } from '../helpers/host.js';

let home: TestHome;
afterEach(async () => {
  await home.cleanup();
});

describe('the SDK client reads the inbox (issue #15)', () => {
  it('lists what waits for a person, newest first, and cuts only the tasks at its limit', async () => {
    home = await new TestHome().init();
    await home.ok(['profile', 'add', 'parked', '--pull']);
    await home.ok(['profile', 'pause', 'parked', '--reason', 'key rotated']);
    const first = await home.task('first gate', ['--needs-approval']);
    const second = await home.task('second gate', ['--needs-approval']);
    const serve = await home.serve();
    const admin = readFileSync(join(home.root, 'admin.token'), 'utf8').trim();
    const client = createClient({ url: serve.url, token: admin });

    const inbox = await client.inbox();
    expect(inbox.total).toBe(3);
    expect(inbox.items.filter((i) => i.kind === 'approval').map((i) => i.command)).toEqual([
      `warden approve ${second}`,
      `warden approve ${first}`,
    ]);
    const cut = await client.inbox({ board: 'default', limit: 1 });
    expect(cut.total).toBe(3);
    expect(cut.items.map((i) => i.kind).sort()).toEqual(['approval', 'profile_paused']);

    await client.approve(first);
    expect((await client.inbox()).total).toBe(2);
    const refused = await client.inbox({ board: 'nope' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(WardenError);
    expect((refused as WardenError).code).toBe('not_found');
  }, 60_000);
});
