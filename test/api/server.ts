import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { ServerType } from '@hono/node-server';
import type { OpenAPIHono } from '@hono/zod-openapi';

/** An API listening on a real port of 127.0.0.1, as `warden serve` runs it. */
export interface Listening {
  /** `http://127.0.0.1:PORT`. */
  url: string;
  close(): Promise<void>;
}

/** Serves `app` over HTTP on a free port of 127.0.0.1, with serve's own adapter. */
export function listen(app: OpenAPIHono): Promise<Listening> {
  return new Promise((resolve, reject) => {
    const server: ServerType = serve(
      { fetch: app.fetch, port: 0, hostname: '127.0.0.1' },
      (info: AddressInfo) => {
        resolve({
          url: `http://127.0.0.1:${info.port}`,
          close: () =>
            new Promise<void>((done) => {
              server.close(() => done());
              (server as { closeAllConnections?: () => void }).closeAllConnections?.();
            }),
        });
      },
    );
    server.once('error', reject);
  });
}
