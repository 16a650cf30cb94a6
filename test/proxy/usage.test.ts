import { describe, expect, it } from 'vitest';
import type { LlmKind } from '../../src/core/llm.js';
import { UsageTap } from '../../src/proxy/usage.js';

/** Server-sent events as the providers frame them. */
function sse(events: [string | null, unknown][]): string {
  return events
    .map(
      ([name, data]) =>
        `${name === null ? '' : `event: ${name}\n`}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`,
    )
    .join('');
}

/** Reads `body` through a tap in chunks of `size` bytes, as a socket may cut it. */
function read(kind: LlmKind, type: string, body: string, size: number): UsageTap {
  const tap = new UsageTap(kind, type);
  const bytes = Buffer.from(body);
  for (let i = 0; i < bytes.length; i += size) tap.feed(bytes.subarray(i, i + size));
  tap.end();
  return tap;
}

const SIZES = [1, 3, 7, 64, 100_000];

const anthropicStream = sse([
  [
    'message_start',
    {
      type: 'message_start',
      message: {
        id: 'msg_1',
        model: 'claude-sonnet-4-5-20250929',
        usage: {
          input_tokens: 1200,
          cache_creation_input_tokens: 300,
          cache_read_input_tokens: 4000,
          output_tokens: 1,
        },
      },
    },
  ],
  ['ping', { type: 'ping' }],
  [
    'content_block_delta',
    { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'héllo "usage"' } },
  ],
  [
    'message_delta',
    { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 250 } },
  ],
  ['message_stop', { type: 'message_stop' }],
]);

describe('usage read from answers as they stream past', () => {
  it('Anthropic: message_start gives input and cache figures, message_delta the output', () => {
    for (const size of SIZES) {
      const tap = read('anthropic', 'text/event-stream; charset=utf-8', anthropicStream, size);
      expect(tap.modelName).toBe('claude-sonnet-4-5-20250929');
      expect(tap.tokens).toEqual({ input: 1200, output: 250, cache_read: 4000, cache_write: 300 });
      expect(tap.error).toBeNull();
    }
  });

  it('OpenAI chat completions: the usage chunk of include_usage, cached input split out', () => {
    const body = sse([
      [null, { id: 'c1', model: 'gpt-5-mini-2025-08-07', choices: [{ delta: { content: 'hi' } }] }],
      [null, { id: 'c1', model: 'gpt-5-mini-2025-08-07', choices: [{ delta: {} }], usage: null }],
      [
        null,
        {
          id: 'c1',
          model: 'gpt-5-mini-2025-08-07',
          choices: [],
          usage: {
            prompt_tokens: 900,
            completion_tokens: 120,
            total_tokens: 1020,
            prompt_tokens_details: { cached_tokens: 600 },
          },
        },
      ],
      [null, '[DONE]'],
    ]);
    for (const size of SIZES) {
      const tap = read('openai', 'text/event-stream', body, size);
      expect(tap.modelName).toBe('gpt-5-mini-2025-08-07');
      expect(tap.tokens).toEqual({ input: 300, output: 120, cache_read: 600, cache_write: 0 });
    }
  });

  it('OpenAI responses: response.completed carries the usage', () => {
    const body = sse([
      ['response.created', { type: 'response.created', response: { id: 'r1', model: 'gpt-5' } }],
      ['response.output_text.delta', { type: 'response.output_text.delta', delta: 'x' }],
      [
        'response.completed',
        {
          type: 'response.completed',
          response: {
            id: 'r1',
            model: 'gpt-5',
            usage: {
              input_tokens: 50,
              input_tokens_details: { cached_tokens: 10, cache_write_tokens: 15 },
              output_tokens: 7,
              total_tokens: 57,
            },
          },
        },
      ],
    ]);
    const tap = read('openai', 'text/event-stream', body, 5);
    expect(tap.modelName).toBe('gpt-5');
    expect(tap.tokens).toEqual({ input: 25, output: 7, cache_read: 10, cache_write: 15 });
  });

  it('a whole JSON answer is read at its end', () => {
    const body = JSON.stringify({
      id: 'c2',
      model: 'gpt-4.1',
      choices: [],
      usage: { prompt_tokens: 10, completion_tokens: 5 },
    });
    const tap = read('openai', 'application/json', body, 4);
    expect(tap.tokens).toEqual({ input: 10, output: 5, cache_read: 0, cache_write: 0 });
    expect(tap.hasUsage).toBe(true);
  });

  it('garbage is recorded as an error, with no tokens', () => {
    const tap = read('anthropic', 'application/json', '<html>bad gateway</html>', 8);
    expect(tap.tokens).toEqual({ input: 0, output: 0, cache_read: 0, cache_write: 0 });
    expect(tap.error).toMatch(/not JSON/);
    const stream = read('openai', 'text/event-stream', 'data: {"usage": nope\n\n', 3);
    expect(stream.error).toMatch(/not JSON/);
  });

  it('an answer without usage counts no tokens and says so', () => {
    const tap = read('openai', 'text/event-stream', sse([[null, { model: 'm' }]]), 10);
    expect(tap.hasUsage).toBe(false);
    expect(tap.modelName).toBe('m');
  });
});
