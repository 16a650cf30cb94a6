/*
 * The SDK's calls (src/sdk/http.ts): a serve that answers 5xx to every try is running and
 * failing, not gone, and the error says so with its message; no answer at all still asks
 * whether serve is running.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { callApi } from '../../src/sdk/http.js';

describe('callApi', () => {
  it('a serve failing every try with 5xx is named as failing, with its message', async (ctx) => {
    let tries = 0;
    const server = createServer((_req, res) => {
      tries += 1;
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'internal', message: 'Cannot find module x.js' } }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    ctx.onTestFinished(() => void server.close());
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await expect(callApi(url, 't', 'GET', '/api/v1/tasks', undefined, 1_500)).rejects.toThrow(
      `warden serve at ${url} failed every try with HTTP 500: Cannot find module x.js; its log says why`,
    );
    expect(tries).toBeGreaterThan(1);
  });

  it('no answer at all asks whether serve is running', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await expect(callApi(url, 't', 'GET', '/api/v1/tasks', undefined, 300)).rejects.toThrow(
      /^no answer from .+ \(.*ECONNREFUSED.*\); is warden serve running\?$/,
    );
  });
});
