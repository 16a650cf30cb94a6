import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClient } from '../../src/sdk/client.js';
import type { WardenClient } from '../../src/sdk/client.js';
import { TestHome } from './host.js';

/** A home with one pull profile, a worker token for it, a running serve and an admin client. */
export interface PullHome {
  home: TestHome;
  url: string;
  client: WardenClient;
  workerToken: string;
}

/** Makes a `PullHome` whose profile `name` is added with `flags` beside `--pull`. */
export async function pullHome(name: string, flags: readonly string[] = []): Promise<PullHome> {
  const home = await new TestHome().init();
  await home.ok(['profile', 'add', name, '--pull', ...flags]);
  const { token } = JSON.parse(
    await home.ok(['token', 'create', `${name}s`, '--profile', name, '--json']),
  ) as { token: string };
  const serve = await home.serve();
  const admin = readFileSync(join(home.root, 'admin.token'), 'utf8').trim();
  return {
    home,
    url: serve.url,
    client: createClient({ url: serve.url, token: admin }),
    workerToken: token,
  };
}
