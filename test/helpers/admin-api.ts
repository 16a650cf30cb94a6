import { join } from 'node:path';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { person } from '../../src/core/actor.js';
import { createApi } from '../../src/api/app.js';
import { hashToken } from '../../src/os/token.js';
import type { Store } from '../../src/store/store.js';

/**
 * The API of a store with a `default` board and an admin token named `ana`, its host's hooks
 * doing nothing (no supervisor, no dispatcher): for tests of the people's read routes on any
 * backend. `dir` holds the runs folder.
 */
export async function adminApi(store: Store, dir: string, token: string): Promise<OpenAPIHono> {
  const ana = person('ana');
  await store.addBoard('default', ana);
  await store.addToken({ name: 'ana', kind: 'admin', hash: hashToken(token) }, ana);
  return createApi({
    store,
    host: 'h1',
    signals: { call: () => undefined, terminal: () => undefined },
    control: { stop: () => Promise.resolve(null) },
    config: () => ({}),
    dispatching: () => true,
    board: {
      runsDir: join(dir, 'runs'),
      dispatching: () => true,
      changed: (ms: number) =>
        new Promise<void>((resolve) => setTimeout(resolve, Math.min(ms, 10))),
    },
  });
}
