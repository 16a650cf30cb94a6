import { describe, expect, it } from 'vitest';
import { gist } from '../../src/core/gist.js';

const CODEX_401 =
  'config_error: the worker exited 78 (configuration error); fix the profile or its environment; ' +
  'last output: "codex: ERROR: unexpected status 401 Unauthorized: {"error":{"message":"Incorrect API ' +
  'key provided: sk-abc. You can find your API key at https://platform.openai.com/account/api-keys.",' +
  '"type":"invalid_request_error","code":"invalid_api_key"}}, url: http://127.0.0.1:47090/llm/-/v1/responses"';

describe('gist', () => {
  it('leaves a reason that fits as it is, on one line', () => {
    expect(gist('the worker exited with code 3;\n  last output: "x"', 80)).toBe(
      'the worker exited with code 3; last output: "x"',
    );
  });

  it('keeps the worker’s words past the advice, and reads a JSON error for its message', () => {
    expect(gist(CODEX_401, 160)).toBe(
      'config_error: the worker exited 78 (configuration error); last output: "codex: ERROR: ' +
        'unexpected status 401 Unauthorized: Incorrect API key provided: sk-abc. Y…',
    );
  });

  it('reads the message of a JSON error the stored line cut short', () => {
    const cut = `${CODEX_401.slice(0, CODEX_401.indexOf('"type"') + 12)}"`;
    expect(gist(cut, 160)).toBe(
      'config_error: the worker exited 78 (configuration error); last output: "codex: ERROR: ' +
        'unexpected status 401 Unauthorized: Incorrect API key provided: sk-abc. Y…',
    );
  });

  it('cuts the lead to its label when the line has too little room', () => {
    expect(gist(`blocked (failed): ${CODEX_401}`, 90)).toBe(
      'blocked (failed): config_error: "codex: ERROR: unexpected status 401 Unauthorized: Incorr…',
    );
  });

  it('cuts a reason with no quoted output from the end', () => {
    expect(gist('stall_loop: 2 runs in a row made no progress (runs 14, 17)', 30)).toBe(
      'stall_loop: 2 runs in a row m…',
    );
  });

  it('keeps a quote with no JSON message as it is, after a lead with no label', () => {
    const reason = `the worker exited with code 1; see the log; last output: "{"ok":false} ${'x'.repeat(50)}"`;
    expect(gist(reason, 70)).toBe(
      `the worker exited with code 1: "{"ok":false} ${'x'.repeat(24)}…`,
    );
  });

  it("keeps a failure's cause after its dash when there is no quoted output", () => {
    const reason =
      'blocked (failed): gave_up: 1 failed run (max_failures 1); last: crashed — ROOT CAUSE: accounts.owner_id has no index';
    expect(gist(reason, 60)).toBe('blocked (failed): gave_up — ROOT CAUSE: accounts.owner_id h…');
    expect(gist(reason.replace('blocked (failed): ', ''), 90)).toBe(
      'gave_up: 1 failed run (max_failures 1) — ROOT CAUSE: accounts.owner_id has no index',
    );
  });
});
