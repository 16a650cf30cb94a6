import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { sendNotification } from '../../src/serve/notify-send.js';

const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

/** A real local target that answers `status` and then writes its body forever. */
async function endlessTarget(status: number): Promise<string> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(status, { 'content-type': 'text/plain' });
      const chunk = 'x'.repeat(64 * 1024);
      const more = (): void => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', more);
      };
      more();
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
}

const request = { headers: { 'content-type': 'text/plain' }, body: 'hello' };

describe('sendNotification', () => {
  it('reads only the start of an answer: an endless body neither holds the send nor fills memory', async () => {
    const ok = await sendNotification(await endlessTarget(200), request, null, 20_000);
    expect(ok).toMatchObject({ ok: true, status: 200, error: null });
    expect(ok.answer).toMatch(/^x{200}$/);
    const failed = await sendNotification(await endlessTarget(500), request, null, 20_000);
    expect(failed).toMatchObject({ ok: false, status: 500, error: `HTTP 500: ${'x'.repeat(200)}` });
  });
});
