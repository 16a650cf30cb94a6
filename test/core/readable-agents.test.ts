import { describe, expect, it } from 'vitest';
import { readableLines } from '../../src/core/readable-log.js';
import { OPENCODE_401 } from '../fixtures/opencode-events.js';

/**
 * `warden log --readable` of Codex's and Gemini CLI's JSON lines, in the shapes the real CLIs
 * (Codex 0.171, Gemini CLI 0.61) printed in a user trial against stand-ins of their APIs; the
 * trial read them as raw JSON.
 */
function read(lines: readonly unknown[]): string[] {
  return lines.flatMap((l) => readableLines(typeof l === 'string' ? l : JSON.stringify(l)));
}

describe('a Codex log, readable', () => {
  it('says each command with its answer, each warden tool, what it said, and the turn', () => {
    const command = '/bin/bash -lc \'git add NOTE.txt && git commit -q -m "Add NOTE.txt"\'';
    expect(
      read([
        'Reading additional input from stdin...',
        { type: 'thread.started', thread_id: '01a2' },
        { type: 'turn.started' },
        { type: 'error', message: 'Reconnecting... 2/5 (exceeded retry limit, last status: 429)' },
        {
          type: 'item.started',
          item: {
            id: 'item_2',
            type: 'command_execution',
            command,
            aggregated_output: '',
            exit_code: null,
            status: 'in_progress',
          },
        },
        {
          type: 'item.completed',
          item: {
            id: 'item_2',
            type: 'command_execution',
            command,
            aggregated_output: 'e2e5ad1 Add NOTE.txt\n',
            exit_code: 0,
            status: 'completed',
          },
        },
        {
          type: 'item.completed',
          item: {
            id: 'item_3',
            type: 'command_execution',
            command: 'npm test',
            aggregated_output: '\n1 failing\n',
            exit_code: 1,
            status: 'failed',
          },
        },
        {
          type: 'item.started',
          item: {
            id: 'item_4',
            type: 'mcp_tool_call',
            server: 'warden',
            tool: 'warden_complete',
            arguments: { summary: 'Added NOTE.txt' },
            result: null,
            error: null,
            status: 'in_progress',
          },
        },
        {
          type: 'item.completed',
          item: {
            id: 'item_4',
            type: 'mcp_tool_call',
            server: 'warden',
            tool: 'warden_complete',
            arguments: { summary: 'Added NOTE.txt' },
            result: {
              content: [{ type: 'text', text: '{"op":"complete","outcome":"completed"}' }],
            },
            error: null,
            status: 'completed',
          },
        },
        {
          type: 'item.completed',
          item: {
            id: 'item_5',
            type: 'file_change',
            changes: [
              { path: 'src/a.ts', kind: 'update' },
              { path: 'NOTE.txt', kind: 'add' },
            ],
          },
        },
        {
          type: 'item.completed',
          item: { id: 'item_6', type: 'agent_message', text: 'All done.' },
        },
        {
          type: 'turn.completed',
          usage: { input_tokens: 5400, cached_input_tokens: 800, output_tokens: 200 },
        },
        { type: 'turn.failed', error: { message: 'stream disconnected' } },
      ]),
    ).toEqual([
      'Reading additional input from stdin...',
      'session started',
      'error: Reconnecting... 2/5 (exceeded retry limit, last status: 429)',
      `tool shell: ${command}`,
      '  → e2e5ad1 Add NOTE.txt',
      '  → error: 1 failing (exit 1)',
      'tool warden_complete: Added NOTE.txt',
      '  → {"op":"complete","outcome":"completed"}',
      'changed: update src/a.ts, add NOTE.txt',
      'said: All done.',
      'turn done (tokens in 5400 (800 cached), out 200)',
      'turn failed: stream disconnected',
    ]);
  });
});

describe('a Gemini CLI log, readable', () => {
  it('says each tool with its answer, the warden tools by their own names, and the result', () => {
    expect(
      read([
        'YOLO mode is enabled. All tool calls will be automatically approved.',
        { type: 'init', session_id: '2a4d', model: 'gemini-2.5-pro' },
        { type: 'message', role: 'user', content: 'You are a worker of warden.\n\n# Add a note' },
        {
          type: 'tool_use',
          tool_name: 'run_shell_command',
          tool_id: 't1',
          parameters: { command: 'git commit -q -m "Add NOTE.txt"', description: 'commit' },
        },
        {
          type: 'tool_result',
          tool_id: 't1',
          status: 'success',
          output: '[warden/1 6e43c26] Add NOTE.txt\n 1 file changed',
        },
        {
          type: 'tool_use',
          tool_name: 'mcp_warden_warden_progress',
          tool_id: 't2',
          parameters: { note: 'committed NOTE.txt' },
        },
        {
          type: 'tool_result',
          tool_id: 't2',
          status: 'error',
          error: { type: 'tool_error', message: 'run 3 is no longer current' },
        },
        { type: 'message', role: 'assistant', content: 'All done.', delta: true },
        { type: 'result', status: 'success', stats: { total_tokens: 4920, tool_calls: 2 } },
        {
          type: 'result',
          status: 'error',
          error: { type: 'Error', message: '[API Error: quota]' },
        },
      ]),
    ).toEqual([
      'YOLO mode is enabled. All tool calls will be automatically approved.',
      'session started: model gemini-2.5-pro',
      'user: You are a worker of warden. # Add a note',
      'tool run_shell_command: git commit -q -m "Add NOTE.txt"',
      '  → [warden/1 6e43c26] Add NOTE.txt',
      'tool warden_progress: committed NOTE.txt',
      '  → error: run 3 is no longer current',
      'said: All done.',
      'result: success (4920 tokens, 2 tool calls)',
      'result (error): [API Error: quota]',
    ]);
  });

  it('passes a JSON line of a shape it does not know as it is', () => {
    const line = JSON.stringify({ type: 'something_new', x: 1 });
    expect(readableLines(line)).toEqual([line]);
  });
});

describe('an OpenCode log, readable', () => {
  const session = { timestamp: 1796602993051, sessionID: 'ses_db21df2bcffeLn3Zvdhj6EGCRo' };
  const ids = { id: 'prt_1', messageID: 'msg_1', sessionID: session.sessionID };

  it('says each tool with its answer, what it said, and how its turn ended', () => {
    expect(
      read([
        {
          type: 'step_start',
          ...session,
          part: { ...ids, snapshot: 'de4a09f', type: 'step-start' },
        },
        {
          type: 'tool_use',
          ...session,
          part: {
            type: 'tool',
            tool: 'bash',
            callID: 'toolu_2',
            state: {
              status: 'completed',
              input: {
                command: 'git add hello.txt && git commit -q -m "Add hello.txt"',
                description: 'Create hello.txt and commit it',
              },
              output: '660f7c1 Add hello.txt\n',
            },
          },
        },
        {
          type: 'step_finish',
          ...session,
          part: { ...ids, reason: 'tool-calls', type: 'step-finish', tokens: { total: 1280 } },
        },
        {
          type: 'tool_use',
          ...session,
          part: {
            type: 'tool',
            tool: 'warden_warden_complete',
            callID: 'toolu_3',
            state: {
              status: 'completed',
              input: { summary: 'Created hello.txt and committed it.' },
              output: '{\n  "run_id": 3,\n  "outcome": "completed"\n}',
            },
          },
        },
        {
          type: 'text',
          ...session,
          part: { ...ids, type: 'text', text: 'Done: hello.txt committed. ' },
        },
        {
          type: 'step_finish',
          ...session,
          part: { ...ids, reason: 'stop', type: 'step-finish', tokens: { total: 1240 } },
        },
      ]),
    ).toEqual([
      'tool bash: git add hello.txt && git commit -q -m "Add hello.txt"',
      '  → 660f7c1 Add hello.txt',
      'tool warden_complete: Created hello.txt and committed it.',
      '  → { "run_id": 3, "outcome": "completed" }',
      'said: Done: hello.txt committed.',
      'turn done: stop (1240 tokens)',
    ]);
  });

  it('says an error by its message, not its JSON', () => {
    expect(read([OPENCODE_401])).toEqual(['error: invalid x-api-key']);
  });
});
