import { describe, expect, it } from 'vitest';
import { findAgent } from '../../src/agents/index.js';
import { mapAgentExit } from '../../src/agents/exit-map.js';
import { finalWord, messageOf } from '../../src/agents/final-word.js';
import { EXIT_CONFIG_ERROR, EXIT_RATE_LIMITED } from '../../src/core/exit.js';
import { OPENCODE_401 } from '../fixtures/opencode-events.js';

/**
 * Each recipe's signs of a rate limit and of a bad configuration, with lines shaped as each
 * agent prints them (its documentation and source; docs/agents.md), and an ordinary failure
 * that must pass through unchanged (issue #12).
 */
const CASES = [
  {
    kind: 'claude-code',
    rate: ['API Error: Request rejected (429) · rate limited, slow down'],
    config: ['{"type":"result","is_error":true,"result":"Invalid API key · Fix external API key"}'],
    plain: 'Error: tool Bash failed',
    code: 1,
  },
  {
    kind: 'codex',
    rate: ['ERROR: exceeded retry limit, last status: 429 Too Many Requests'],
    config: ['ERROR: unexpected status 401 Unauthorized: Incorrect API key, url: http://x/v1'],
    plain: 'ERROR: turn aborted',
    code: 1,
  },
  {
    kind: 'gemini',
    rate: ['[API Error: Resource has been exhausted (e.g. check quota).]'],
    config: ['Invalid auth method selected.'],
    plain: 'An unexpected critical error occurred',
    code: 1,
  },
  {
    kind: 'opencode',
    rate: [
      '{"type":"error","error":{"name":"APIError","data":{"statusCode":429,"isRetryable":true}}}',
    ],
    config: [
      '{"type":"error","error":{"name":"APIError","data":{"statusCode":401,"isRetryable":false}}}',
    ],
    plain: '{"type":"error","error":{"name":"UnknownError"}}',
    code: 1,
  },
  {
    kind: 'aider',
    rate: ['litellm.RateLimitError: The API provider has rate limited you. Try again later.'],
    config: ['The API provider is not able to authenticate you. Check your API key.'],
    plain: 'Unable to apply edits',
    code: 1,
  },
  {
    kind: 'hermes',
    rate: ['hermes -z: provider error: 429 Too Many Requests'],
    config: ['hermes -z: no API key found for provider openrouter'],
    plain: 'hermes -z: task failed',
    code: 2,
  },
] as const;

describe('mapAgentExit', () => {
  it.each(CASES)('$kind: a rate limit is 75, a bad setup 78, other failures pass', (c) => {
    const recipe = findAgent(c.kind);
    const before = ['working...', 'still working'];
    expect(mapAgentExit(recipe, c.code, [...before, ...c.rate])).toMatchObject({
      code: EXIT_RATE_LIMITED,
      kind: 'rate_limited',
    });
    const config = mapAgentExit(recipe, c.code, [...before, ...c.config]);
    expect(config).toMatchObject({ code: EXIT_CONFIG_ERROR, kind: 'config_error' });
    expect(c.config[0]).toContain(config.matched?.replace(/^…|…$/g, '') ?? '(none)');
    expect(mapAgentExit(recipe, c.code, [...before, c.plain])).toEqual({
      code: c.code,
      kind: null,
      matched: null,
    });
  });

  it('a bad setup wins over a rate limit, and only the last lines are read', () => {
    const recipe = findAgent('codex');
    const rate = 'ERROR: exceeded retry limit, last status: 429 Too Many Requests';
    const config = 'Missing environment variable: `OPENAI_API_KEY`.';
    expect(mapAgentExit(recipe, 1, [config, rate]).kind).toBe('config_error');
    const old = [rate, ...Array.from({ length: 40 }, (_, i) => `line ${i}`)];
    expect(mapAgentExit(recipe, 1, old).kind).toBeNull();
  });

  it("codex: its WebSocket attempts' 404s are no configuration error; the 429 after them is a rate limit", () => {
    // As Codex 0.171 printed them against a server without WebSockets (a user trial).
    const lines = [
      '{"type":"error","message":"Reconnecting... 2/5 (unexpected status 404 Not Found: {\\"error\\":\\"not found\\"})"}',
      '{"type":"error","message":"Falling back from WebSockets to HTTPS transport. unexpected status 404 Not Found: not found"}',
      '{"type":"turn.failed","error":{"message":"exceeded retry limit, last status: 429 Too Many Requests"}}',
    ];
    expect(mapAgentExit(findAgent('codex'), 1, lines)).toEqual({
      code: EXIT_RATE_LIMITED,
      kind: 'rate_limited',
      matched: 'exceeded retry limit, last status: 429 Too Many Requests',
    });
    expect(mapAgentExit(findAgent('codex'), 1, lines.slice(0, 2)).kind).toBeNull();
  });

  it("gemini: a 403 (exit 147) or a bad key's 400 is a configuration error, quoting what it said", () => {
    const gemini = findAgent('gemini');
    const badKey =
      '{"type":"result","status":"error","error":{"message":"[API Error: {\\"error\\":{\\"code\\":400,\\"message\\":\\"API key not valid. Please pass a valid API key.\\"}}]"}}';
    expect(mapAgentExit(gemini, 144, [badKey])).toMatchObject({ code: EXIT_CONFIG_ERROR });
    expect(mapAgentExit(gemini, 144, [badKey]).matched).toContain('API key not valid');
    const denied = '{"type":"result","status":"error","error":{"message":"PERMISSION_DENIED"}}';
    expect(mapAgentExit(gemini, 147, ['starting', denied])).toEqual({
      code: EXIT_CONFIG_ERROR,
      kind: 'config_error',
      matched: 'PERMISSION_DENIED',
    });
    // A code with nothing said is quoted as the code; what the agent told the person is not
    // what went wrong.
    expect(mapAgentExit(gemini, 173, ['plain']).matched).toBe('exit 173');
    const chatter =
      '{"type":"message","role":"assistant","content":"Let me read the files","delta":true}';
    expect(mapAgentExit(gemini, 173, [chatter]).matched).toBe('exit 173');
    expect(mapAgentExit(gemini, 173, [denied, chatter]).matched).toBe('PERMISSION_DENIED');
    expect(mapAgentExit(gemini, 144, ['a request it did not like']).kind).toBeNull();
  });

  it('exit 0 passes, except for an agent that exits 0 after an API error (aider)', () => {
    const rate = 'litellm.RateLimitError: The API provider has rate limited you.';
    expect(mapAgentExit(findAgent('claude-code'), 0, ['"error":"rate_limit"']).code).toBe(0);
    expect(mapAgentExit(findAgent('aider'), 0, [rate]).code).toBe(EXIT_RATE_LIMITED);
  });
});

describe("an agent's last word in a run's reason", () => {
  // Claude Code's last line after a bad key, as the user trial's run printed it.
  const claudeResult = JSON.stringify({
    type: 'result',
    subtype: 'success',
    is_error: true,
    duration_ms: 186993,
    duration_api_ms: 0,
    num_turns: 1,
    result: 'Invalid API key · Fix external API key',
    stop_reason: 'stop_sequence',
    session_id: '606a2c1e-0000-4000-8000-000000000000',
    total_cost_usd: 0,
    usage: { input_tokens: 0, output_tokens: 0 },
    uuid: '51dd4364-4eed-4c2b-9d3a-0a0b0c0d0e0f',
  });

  it('is the message of a JSON line, not a window of its fields', () => {
    expect(messageOf(claudeResult)).toBe('Invalid API key · Fix external API key');
    expect(mapAgentExit(findAgent('claude-code'), 1, ['{"type":"system"}', claudeResult])).toEqual({
      code: EXIT_CONFIG_ERROR,
      kind: 'config_error',
      matched: 'Invalid API key · Fix external API key',
    });
    // Codex's failed turn, Gemini CLI's error result and error event.
    expect(messageOf('{"type":"turn.failed","error":{"message":"stream disconnected"}}')).toBe(
      'stream disconnected',
    );
    expect(
      messageOf(
        '{"type":"result","status":"error","error":{"type":"FatalError","message":"quota"}}',
      ),
    ).toBe('quota');
    expect(messageOf('{"type":"error","severity":"error","message":"fetch failed"}')).toBe(
      'fetch failed',
    );
    // OpenCode's error event, its message under `data`: the 401 blocks with it.
    const opencode401 = JSON.stringify(OPENCODE_401);
    expect(mapAgentExit(findAgent('opencode'), 1, [opencode401])).toEqual({
      code: EXIT_CONFIG_ERROR,
      kind: 'config_error',
      matched: 'invalid x-api-key',
    });
  });

  it('is null for lines that carry no message', () => {
    for (const line of [
      'plain text',
      '{"type":"assistant","message":{"content":[]}}',
      '{"type":"item.completed","item":{"text":"done"}}',
      '{not json',
      '[1,2]',
      '{"type":"result","result":"   "}',
    ]) {
      expect(messageOf(line), line).toBeNull();
    }
  });

  it('is what OpenCode said to the person, in its text part', () => {
    const text = {
      type: 'text',
      timestamp: 1796603342488,
      sessionID: 'ses_db218a36effeuut37zZqPXY7uC',
      part: { id: 'prt_1', type: 'text', text: 'I created hello.txt and committed it. ' },
    };
    const finish = { type: 'step_finish', part: { reason: 'stop', type: 'step-finish' } };
    expect(finalWord([JSON.stringify(text), JSON.stringify(finish)])).toBe(
      'I created hello.txt and committed it.',
    );
  });

  it('is what Codex and Gemini CLI said to the person, a streamed message whole', () => {
    expect(
      messageOf(
        '{"type":"item.completed","item":{"id":"i2","type":"agent_message","text":"All done."}}',
      ),
    ).toBe('All done.');
    const chunks = [
      '{"type":"message","role":"assistant","content":"Added the flag ","delta":true}',
      '{"type":"message","role":"assistant","content":"and a test.","delta":true}',
    ];
    expect(finalWord(['{"type":"init"}', ...chunks, '{"type":"result","status":"success"}'])).toBe(
      'Added the flag and a test.',
    );
    // A later error still has the last word.
    expect(finalWord([...chunks, '{"type":"error","message":"quota"}'])).toBe('quota');
    expect(messageOf('{"type":"message","role":"user","content":"Work task 1"}')).toBeNull();
  });

  it('is the last line that carries one, and a long one is cut', () => {
    const crash = '{"type":"result","is_error":true,"result":"API Error: Connection refused"}';
    expect(finalWord([crash, '{"type":"system","subtype":"end"}', 'bye'])).toBe(
      'API Error: Connection refused',
    );
    expect(finalWord(['nothing', 'here'])).toBeNull();
    const long = messageOf(JSON.stringify({ type: 'error', message: 'x'.repeat(1000) })) ?? '';
    expect(long).toHaveLength(300);
    expect(long.endsWith('…')).toBe(true);
  });
});
