/**
 * Request bodies as a real `warden serve` reads them: straight from Node's request, counted
 * as they arrive (body.ts), with the same answers as the in-process harness gets.
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES } from '../../src/api/app.js';
import { TestHome } from '../helpers/host.js';

let home: TestHome;
afterEach(async () => {
  await home.cleanup();
});

/** One POST with `chunks` written as they are (chunked, unless a length is given). */
function post(
  url: string,
  token: string,
  chunks: readonly (string | Buffer)[],
  headers: Record<string, string> = { 'content-type': 'application/json' },
): Promise<{ status: number; body: { error?: { code: string; message: string } } & object }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/api/v1/tasks`,
      { method: 'POST', headers: { authorization: `Bearer ${token}`, ...headers } },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as { error?: never } }),
        );
      },
    );
    req.on('error', reject);
    for (const c of chunks) req.write(c);
    req.end();
  });
}

describe('request bodies read from Node', () => {
  it('takes JSON in pieces, refuses bodies over the limit with or without a length, and bad UTF-8', async () => {
    home = await new TestHome().init();
    const serve = await home.serve();
    const admin = readFileSync(join(home.root, 'admin.token'), 'utf8').trim();

    const made = await post(serve.url, admin, ['{"title":', '"in two pieces"}']);
    expect(made.status).toBe(200);
    expect(made.body).toMatchObject({ title: 'in two pieces' });

    const big = JSON.stringify({ title: 'big', body: 'b'.repeat(MAX_BODY_BYTES) });
    const pieces = [big.slice(0, 100_000), big.slice(100_000, 200_000), big.slice(200_000)];
    for (const answer of [
      await post(serve.url, admin, pieces),
      await post(serve.url, admin, [big], {
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(big)),
      }),
    ]) {
      expect(answer.status).toBe(400);
      expect(answer.body.error?.message).toBe(
        `request body is larger than ${MAX_BODY_BYTES} bytes`,
      );
    }

    const badUtf8 = await post(serve.url, admin, [
      Buffer.concat([Buffer.from('{"title":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]),
    ]);
    expect(badUtf8.status).toBe(400);
    expect(badUtf8.body.error?.message).toMatch(/not valid UTF-8/);
    const noType = await post(serve.url, admin, ['{"title":"x"}'], {});
    expect(noType.status).toBe(415);

    const listed = await home.ok(['list', '--json']);
    expect((JSON.parse(listed) as { title: string }[]).map((t) => t.title)).toEqual([
      'in two pieces',
    ]);
  });
});
