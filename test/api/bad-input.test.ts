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
  body: Pick<RequestOptions, 'json' | 'raw' | 'bytes' | 'headers'>,
  message?: RegExp,
  status = 400,
): Promise<void> {
  const before = await h.snapshot([c.task.id]);
  const a = await h.request('POST', `/api/v1/worker/${path}`, { token: c.token, ...body });
  expectError(a, status, status === 415 ? 'unsupported_media_type' : 'invalid', message);
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

  it('a body that is not JSON at all → 415 unsupported_media_type', async () => {
    await refused(
      'complete',
      { raw: '{"summary":"x"}', headers: { 'content-type': 'text/plain' } },
      /^Content-Type "text\/plain" is not JSON; send Content-Type: application\/json$/,
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

describe('the edges of a JSON body (issue #11)', () => {
  const deep = (n: number): string => '['.repeat(n) + ']'.repeat(n);

  it('5,000 levels of nesting in metadata → 400 invalid, not 500', async () => {
    for (const path of ['complete', 'request-review']) {
      await refused(
        path,
        { raw: `{"summary":"x","metadata":${deep(5000)}}` },
        /^request body nests arrays and objects deeper than 64 levels; flatten it$/,
      );
    }
    // The limit is on the whole body: 64 levels pass, 65 do not.
    await refused('complete', { raw: `{"summary":"x","metadata":${deep(64)}}` }, /deeper than 64/);
    const a = await h.request('POST', '/api/v1/worker/complete', {
      token: c.token,
      raw: `{"summary":"x","metadata":${deep(63)}}`,
    });
    expect(a.status, a.text).toBe(200);
  });

  it('a body without Content-Type → 415 unsupported_media_type', async () => {
    const bytes = new TextEncoder().encode('{"summary":"x"}');
    await refused(
      'complete',
      { bytes },
      /^a request body needs Content-Type: application\/json$/,
      415,
    );
  });

  it('a charset other than UTF-8, or a JSON-like type that is not application/json → 415', async () => {
    const utf16 = new Uint8Array(Buffer.from('{"summary":"x"}', 'utf16le'));
    await refused(
      'complete',
      { bytes: utf16, headers: { 'content-type': 'application/json; charset=utf-16' } },
      /^charset "utf-16" is not supported; send the body as UTF-8 \(charset=utf-8\)$/,
      415,
    );
    await refused(
      'progress',
      { raw: '{}', headers: { 'content-type': 'application/json; charset=latin1' } },
      /charset "latin1"/,
      415,
    );
    await refused(
      'progress',
      { raw: '{}', headers: { 'content-type': 'application/vnd.api+json' } },
      /is not JSON/,
      415,
    );
    // UTF-8, however spelled, is JSON.
    for (const type of ['application/json; charset=UTF-8', 'Application/JSON;charset="utf8"']) {
      const a = await h.request('POST', '/api/v1/worker/heartbeat', {
        token: c.token,
        raw: '{}',
        headers: { 'content-type': type },
      });
      expect(a.status, `${type}: ${a.text}`).toBe(200);
    }
  });

  it('invalid UTF-8 → 400 invalid, never replaced with U+FFFD', async () => {
    const prefix = new TextEncoder().encode('{"summary":"caf');
    const bytes = new Uint8Array([...prefix, 0xe9, 0x22, 0x7d]); // Latin-1 é, then "}
    await refused(
      'complete',
      { bytes, headers: { 'content-type': 'application/json' } },
      /^request body is not valid UTF-8; send JSON encoded as UTF-8$/,
    );
    // An overlong encoding of "/" and a lone surrogate are not UTF-8 either.
    for (const bad of [
      [0xc0, 0xaf],
      [0xed, 0xa0, 0x80],
    ]) {
      const body = new Uint8Array([...new TextEncoder().encode('{"note":"'), ...bad, 0x22, 0x7d]);
      await refused('progress', { bytes: body, headers: { 'content-type': 'application/json' } });
    }
  });

  it('control characters in a summary or a comment → 400; newlines and tabs are kept', async () => {
    await refused('comment', { json: { body: 'a\u0000b' } }, /^comment: .*\(found U\+0000\)$/);
    await refused('comment', { json: { body: '\u001b[2Jcleared' } }, /found U\+001B/);
    await refused('complete', { json: { summary: 'ok\u0007' } }, /^summary: .*U\+0007/);
    await refused('fail', { json: { reason: 'x\u009b' } }, /^reason: .*U\+009B/);
    await refused('progress', { json: { note: 'n\u0000' } }, /^note: .*U\+0000/);
    const a = await h.request('POST', '/api/v1/worker/comment', {
      token: c.token,
      json: { body: 'line one\n\tline two\r\n' },
    });
    expect(a.status, a.text).toBe(200);
  });
});
