import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ReadableLog, readableLines } from '../../src/core/readable-log.js';
import { lastLine } from '../../src/core/reasons.js';

/** A real Claude Code 2.1 stream-json log, from test/integration/claude-code.test.ts's run. */
const LOG = readFileSync(new URL('../fixtures/claude-stream.jsonl', import.meta.url), 'utf8');

/** What `warden log --readable` shows of it. */
const READ = [
  'session started: model claude-standin in /tmp/warden-it-gcH1cz/worktrees/1',
  '[claude-code:unrecognized_model] {"model":"claude-standin","query_source":"sdk"}',
  'tool warden_progress: read the task',
  '  → { "run_id": 1, "task_id": 1, "attempt": 1, "state": "running" }',
  'tool Write: /tmp/warden-it-gcH1cz/worktrees/1/NOTES.md',
  '  → File created successfully at: /tmp/warden-it-gcH1cz/worktrees/1/NOTES.md (file state is current in your context — no need to Read it back)',
  'tool Bash: git add NOTES.md && git commit -q -m "Add NOTES.md"',
  '  → (Bash completed with no output)',
  'tool warden_complete: Wrote NOTES.md and committed it.',
  '  → { "run_id": 1, "task_id": 1, "attempt": 1, "op": "complete", "outcome": "completed", "accepted_at": 1796566167373 }',
  'said: Done: NOTES.md is committed.',
  'result: Done: NOTES.md is committed. (5 turns, USD 0.44)',
].join('\n');

describe("a run's last output, as its reason quotes it", () => {
  it("is what the agent's last event says, not its JSON cut at 200 characters", () => {
    expect(lastLine(LOG)).toBe('result: Done: NOTES.md is committed. (5 turns, USD 0.44)');
    // The tail a run keeps may start mid-event; the last event still reads whole.
    expect(lastLine(LOG.slice(-3_000))).toBe(
      'result: Done: NOTES.md is committed. (5 turns, USD 0.44)',
    );
    // A plain worker's lines are as they were.
    expect(lastLine('step 1\nstep 2\n\n')).toBe('step 2');
  });
});

describe("a run's log as a person reads it: the agent's retries", () => {
  it('says each failed model request Claude Code tries again, so an outage is not a silent gap', () => {
    const retry = (fields: Record<string, unknown>): string =>
      JSON.stringify({
        type: 'system',
        subtype: 'api_retry',
        session_id: 's',
        uuid: 'u',
        ...fields,
      });
    expect(
      readableLines(
        retry({
          attempt: 2,
          max_retries: 10,
          retry_delay_ms: 1120,
          error_status: 529,
          error: 'overloaded',
        }),
      ),
    ).toEqual(['model request failed (HTTP 529, overloaded); retry 2 of 10 in 1.1s']);
    expect(
      readableLines(
        retry({
          attempt: 1,
          max_retries: 10,
          retry_delay_ms: 564,
          error_status: null,
          error: 'unknown',
        }),
      ),
    ).toEqual(['model request failed (no answer, unknown); retry 1 of 10 in 0.6s']);
    // Other system events still say nothing.
    expect(readableLines(JSON.stringify({ type: 'system', subtype: 'status' }))).toEqual([]);
  });
});

describe("a run's log as a person reads it", () => {
  it("turns Claude Code's events into what they say, whatever the pieces it comes in", () => {
    const whole = new ReadableLog();
    expect(whole.push(LOG) + whole.end()).toBe(`${READ}\n`);
    // The same log in pieces of 7 bytes: lines cut anywhere come out whole, once.
    const pieces = new ReadableLog();
    let out = '';
    for (let i = 0; i < LOG.length; i += 7) out += pieces.push(LOG.slice(i, i + 7));
    expect(out + pieces.end()).toBe(`${READ}\n`);
  });

  it('passes other lines as they are, and leaves out only what says nothing', () => {
    expect(readableLines('plain output')).toEqual(['plain output']);
    expect(readableLines('{not json')).toEqual(['{not json']);
    const other = '{"type":"thing.happened","item":{"text":"hi"}}';
    expect(readableLines(other)).toEqual([other]);
    // Codex's and Gemini CLI's events read too (test/core/readable-agents.test.ts).
    expect(
      readableLines('{"type":"item.completed","item":{"type":"agent_message","text":"hi"}}'),
    ).toEqual(['said: hi']);
    const gemini =
      '{"type":"result","status":"error","error":{"type":"FatalError","message":"quota"}}';
    expect(readableLines(gemini)).toEqual(['result (error): quota']);
    expect(readableLines('{"type":"stream_event","event":{}}')).toEqual([]);
    expect(readableLines('{"type":"system","subtype":"status"}')).toEqual([]);
  });

  it('says a failed result, an error from a tool, and cuts what is long', () => {
    expect(
      readableLines('{"type":"result","is_error":true,"result":"Invalid API key","num_turns":1}'),
    ).toEqual(['result (error): Invalid API key (1 turns)']);
    const failed = JSON.stringify({
      type: 'user',
      message: {
        content: [{ type: 'tool_result', is_error: true, content: 'Exit code 1\nnpm ERR! x' }],
      },
    });
    expect(readableLines(failed)).toEqual(['  → error: Exit code 1']);
    const said = JSON.stringify({
      type: 'assistant',
      message: { content: [{ type: 'text', text: 'x'.repeat(900) }] },
    });
    const [line] = readableLines(said);
    expect(line).toHaveLength('said: '.length + 500);
    expect(line?.endsWith('…')).toBe(true);
  });
});
