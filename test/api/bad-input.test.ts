import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES } from '../../src/api/app.js';
import type { Claim } from '../../src/store/run-types.js';
import type { Harness, RequestOptions } from './harness.js';
import { expectError, expectUnchanged, makeHarness } from './harness.js';

let h: Harness;
let c: Claim;

beforeEach(async () => {
  h = await makeHarness();
  c = await h.claimNew();
});
afterEach(async () => {
  await h.cleanup();
});

/** Sends a worker call that must be refused `invalid`, and checks nothing changed. */
async function refused(
  path: string,
  body: Pick<RequestOptions, 'json' | 'raw' | 'headers'>,
  message?: RegExp,
  status = 400,
): Promise<void> {
  const before = await h.snapshot([c.task.id]);
  const a = await h.request('POST', `/api/v1/worker/${path}`, { token: c.token, ...body });
  expectError(a, status, 'invalid', message);
  expectUnchanged(before, await h.snapshot([c.task.id]));
  expect(h.signals.calls).toEqual([]);
  expect(h.signals.terminals).toEqual([]);
  // The fence did not even mark the run as using the protocol.
  expect((await h.store.getRun(c.run.id)).used_protocol).toBe(false);
}

describe('bad request bodies change nothing', () => {
  it('malformed JSON → 400 invalid', async () => {
    for (const path of ['complete', 'progress', 'heartbeat', 'comment', 'create', 'link']) {
      await refused(path, { raw: '{"summary": "x"' }, /malformed json/i);
    }
    await refused('complete', { raw: '' }, /malformed json/i);
  });

  it('a body that is not an object → 400 invalid', async () => {
    await refused('complete', { raw: '[]' }, /expected object/);
    await refused('complete', { raw: 'null' }, /expected object/);
    await refused('progress', { raw: '"note"' }, /expected object/);
  });

  it('a body that is not JSON at all → 415 invalid', async () => {
    await refused(
      'complete',
      { raw: '{"summary":"x"}', headers: { 'content-type': 'text/plain' } },
      undefined,
      415,
    );
  });

  it('an unknown field → 400 invalid naming it', async () => {
    await refused('complete', { json: { summary: 'x', sumary: 'typo' } }, /sumary/);
    await refused('progress', { json: { note: 'x', percent: 50 } }, /percent/);
    await refused('block', { json: { reason: 'r', kind: 'transient', until: 5 } }, /until/);
    await refused('create', { json: { title: 'child', board: 'ops' } }, /board/);
    await refused('link', { json: { parent: 1, child: 2, both: true } }, /both/);
  });

  it('a wrong type or a missing field → 400 invalid naming the field', async () => {
    await refused('complete', { json: { summary: 5 } }, /^summary: /);
    await refused('complete', { json: {} }, /^summary: /);
    await refused('progress', { json: { note: ['a'] } }, /^note: /);
    await refused('comment', { json: { body: true } }, /^body: /);
    await refused('create', { json: { title: 'x', priority: 1.5 } }, /^priority: /);
    await refused('create', { json: { title: 'x', after_me: 'yes' } }, /^after_me: /);
    await refused('create', { json: { title: 'x', parents: ['1'] } }, /^parents\.0: /);
    await refused('link', { json: { parent: 'one', child: 2 } }, /^parent: /);
    await refused('link', { json: { parent: 1, child: -2 } }, /^child: /);
  });

  it('an empty reason for fail or block → 400 invalid', async () => {
    await refused('fail', { json: { reason: '' } }, /reason/);
    await refused('fail', { json: { reason: '   ' } }, /reason: must not be empty/);
    await refused('block', { json: { reason: '', kind: 'needs_input' } }, /reason/);
    await refused('fail', { json: {} }, /reason/);
  });

  it('a bad block kind → 400 invalid listing the kinds', async () => {
    await refused('block', { json: { reason: 'r', kind: 'bored' } }, /kind: .*needs_input/);
    await refused('block', { json: { reason: 'r' } }, /kind/);
  });

  it('values over their limits → 400 invalid', async () => {
    await refused('progress', { json: { note: 'n'.repeat(2001) } }, /^note: /);
    await refused('complete', { json: { summary: 's'.repeat(20_000) } }, /^summary: /);
    // Under the body limit, over the metadata limit: refused inside the store, rolled back.
    await refused(
      'complete',
      { json: { summary: 'x', metadata: { blob: 'm'.repeat(100_000) } } },
      /metadata: must be at most/,
    );
    // Characters under the schema's limit, bytes over the store's.
    await refused('complete', { json: { summary: 'é'.repeat(10_000) } }, /summary: .*bytes/);
  });

  it('a body over MAX_BODY_BYTES → 400 invalid', async () => {
    expect(MAX_BODY_BYTES).toBe(256 * 1024);
    const big = JSON.stringify({ summary: 'x', metadata: { blob: 'b'.repeat(MAX_BODY_BYTES) } });
    await refused('complete', { raw: big }, /larger than 262144 bytes/);
    await refused('comment', { raw: JSON.stringify({ body: 'c'.repeat(MAX_BODY_BYTES + 1) }) });
    // The limit is on bytes read, not on a Content-Length the client may leave out.
    const before = await h.snapshot([c.task.id]);
    const chunks = new TextEncoder().encode(big);
    const stream = new ReadableStream<Uint8Array>({
      start(ctl) {
        for (let i = 0; i < chunks.length; i += 16_384) ctl.enqueue(chunks.slice(i, i + 16_384));
        ctl.close();
      },
    });
    const res = await h.app.request('/api/v1/worker/complete', {
      method: 'POST',
      headers: { authorization: `Bearer ${c.token}`, 'content-type': 'application/json' },
      body: stream,
      duplex: 'half',
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid');
    expectUnchanged(before, await h.snapshot([c.task.id]));
  });

  it('the same bodies are still refused from a stale run before the fence is asked', async () => {
    // Validation happens at the edge: a bad body never reaches the store, so it writes no
    // stale_run event even when the token's run is no longer current.
    await h.supersede(c);
    const before = await h.snapshot([c.task.id]);
    const a = await h.request('POST', '/api/v1/worker/complete', {
      token: c.token,
      json: { summary: 5 },
    });
    expectError(a, 400, 'invalid');
    expectUnchanged(before, await h.snapshot([c.task.id]));
  });
});
