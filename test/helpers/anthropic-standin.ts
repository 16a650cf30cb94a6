/**
 * A stand-in for the Anthropic Messages API, for running a real Claude Code CLI with no
 * network (issue #12). It speaks `POST /v1/messages` as the real API does: with `stream: true`
 * as server-sent events (`message_start`, `content_block_start` / `_delta` / `_stop` with
 * `text_delta` and `input_json_delta`, `message_delta` with the stop reason and usage,
 * `message_stop`, and `ping`), otherwise as one JSON message; `count_tokens` and `/v1/models`
 * answer too, and an unknown path gets the API's 404 error body.
 *
 * The model is a script of steps. The conversation that carries the MCP tools of `server` is
 * the agent's main one: each request there gets the first step whose tool the request's own
 * assistant messages have not called yet, so a retried request gets the same answer and the
 * stand-in keeps no state per conversation. Any other request (a title, a summary) gets "OK".
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Step =
  | { kind: 'mcp'; tool: string; input: Record<string, unknown> }
  /** The agent's own file tool (Claude Code's `Write`), with a path under its working folder. */
  | { kind: 'write'; file: string; content: string }
  /** Another tool of the agent's own, such as `Bash`. */
  | { kind: 'tool'; name: string; input: Record<string, unknown> }
  | { kind: 'text'; text: string };

type Block =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };

interface Turn {
  blocks: Block[];
  stop_reason: 'end_turn' | 'tool_use';
}

export interface StandinRequest {
  method: string;
  path: string;
  /** `main` (the scripted conversation), `side`, or the endpoint answered. */
  answered: string;
  /** The tool each scripted answer called, or `text`. */
  step?: string;
  apiKey: boolean;
}

export interface Standin {
  url: string;
  requests: StandinRequest[];
  close(): Promise<void>;
}

interface Message {
  role?: string;
  content?: unknown;
}

interface MessagesBody {
  model?: string;
  stream?: boolean;
  system?: unknown;
  messages?: Message[];
  tools?: { name?: string }[];
}

const newId = (prefix: string): string => `${prefix}${randomBytes(12).toString('base64url')}`;

/** A plausible token count for a text: usage numbers the client shows and adds up. */
const tokensOf = (text: string): number => Math.max(1, Math.ceil(text.length / 4));

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((b: unknown) => (b !== null && typeof b === 'object' && 'text' in b ? String(b.text) : ''))
    .join('');
}

function calledTools(messages: readonly Message[]): string[] {
  return messages
    .filter((m) => m.role === 'assistant' && Array.isArray(m.content))
    .flatMap((m) => m.content as { type?: string; name?: string }[])
    .filter((b) => b.type === 'tool_use' && typeof b.name === 'string')
    .map((b) => b.name as string);
}

/** The agent's working folder, as Claude Code names it to the model. */
function workingFolder(body: MessagesBody): string | undefined {
  const text = `${textOf(body.system)}\n${JSON.stringify(body.messages ?? [])}`;
  return /(?:Primary working directory|Working directory): ([^\s\\]+)/.exec(text)?.[1];
}

function toolName(step: Step, server: string, tools: readonly string[]): string {
  if (step.kind === 'mcp') return `mcp__${server}__${step.tool}`;
  if (step.kind === 'write') return tools.includes('Write') ? 'Write' : 'write';
  if (step.kind === 'tool') return step.name;
  return 'text';
}

function turnFor(body: MessagesBody, steps: readonly Step[], server: string): [Turn, string] {
  const tools = (body.tools ?? []).map((t) => t.name ?? '');
  const called = calledTools(body.messages ?? []);
  const next = steps.find((s) => s.kind !== 'text' && !called.includes(toolName(s, server, tools)));
  const step = next ?? steps.find((s) => s.kind === 'text') ?? { kind: 'text', text: 'Done.' };
  const name = toolName(step, server, tools);
  if (step.kind === 'text')
    return [{ blocks: [{ type: 'text', text: step.text }], stop_reason: 'end_turn' }, name];
  const input =
    step.kind === 'write'
      ? { file_path: `${workingFolder(body) ?? '.'}/${step.file}`, content: step.content }
      : step.input;
  return [
    { blocks: [{ type: 'tool_use', id: newId('toolu_'), name, input }], stop_reason: 'tool_use' },
    name,
  ];
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'request-id': newId('req_') });
  res.end(JSON.stringify(body));
}

function usage(inputTokens: number, outputTokens: number): Record<string, unknown> {
  return {
    input_tokens: inputTokens,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    output_tokens: outputTokens,
    service_tier: 'standard',
  };
}

/** The events of one streamed message, in the order and shape the real API sends them. */
function* events(model: string, turn: Turn, inputTokens: number): Generator<[string, unknown]> {
  yield [
    'message_start',
    {
      type: 'message_start',
      message: {
        id: newId('msg_'),
        type: 'message',
        role: 'assistant',
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: usage(inputTokens, 1),
      },
    },
  ];
  yield ['ping', { type: 'ping' }];
  let output = 0;
  for (const [index, block] of turn.blocks.entries()) {
    const start = block.type === 'text' ? { type: 'text', text: '' } : { ...block, input: {} };
    yield ['content_block_start', { type: 'content_block_start', index, content_block: start }];
    const whole = block.type === 'text' ? block.text : JSON.stringify(block.input);
    output += tokensOf(whole);
    // The API sends text and a tool's JSON input in small pieces (a tool's first one empty).
    const pieces = block.type === 'text' ? [] : [''];
    for (let i = 0; i < whole.length; i += 16) pieces.push(whole.slice(i, i + 16));
    for (const piece of pieces) {
      const delta =
        block.type === 'text'
          ? { type: 'text_delta', text: piece }
          : { type: 'input_json_delta', partial_json: piece };
      yield ['content_block_delta', { type: 'content_block_delta', index, delta }];
    }
    yield ['content_block_stop', { type: 'content_block_stop', index }];
  }
  yield [
    'message_delta',
    {
      type: 'message_delta',
      delta: { stop_reason: turn.stop_reason, stop_sequence: null },
      usage: { output_tokens: output },
    },
  ];
  yield ['message_stop', { type: 'message_stop' }];
}

function stream(res: ServerResponse, model: string, turn: Turn, inputTokens: number): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'request-id': newId('req_'),
  });
  for (const [event, data] of events(model, turn, inputTokens)) {
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }
  res.end();
}

/** Starts the stand-in on a free port of 127.0.0.1; `server` is the MCP server's name. */
export async function startAnthropicStandin(
  steps: readonly Step[],
  server: string,
): Promise<Standin> {
  const requests: StandinRequest[] = [];
  const http = createServer((req, res) => {
    void (async () => {
      const raw = await readBody(req);
      const path = new URL(req.url ?? '/', 'http://standin').pathname;
      const seen: StandinRequest = {
        method: req.method ?? '',
        path,
        answered: '404',
        apiKey: req.headers['x-api-key'] !== undefined,
      };
      requests.push(seen);
      if (req.method === 'POST' && path === '/v1/messages') {
        const body = JSON.parse(raw) as MessagesBody;
        const main = (body.tools ?? []).some((t) => t.name?.startsWith(`mcp__${server}__`));
        const [turn, step]: [Turn, string] = main
          ? turnFor(body, steps, server)
          : [{ blocks: [{ type: 'text', text: 'OK' }], stop_reason: 'end_turn' }, 'text'];
        seen.answered = main ? 'main' : 'side';
        seen.step = step;
        const model = body.model ?? 'claude-standin';
        if (body.stream === true) return stream(res, model, turn, tokensOf(raw));
        return sendJson(res, 200, {
          id: newId('msg_'),
          type: 'message',
          role: 'assistant',
          model,
          content: turn.blocks,
          stop_reason: turn.stop_reason,
          stop_sequence: null,
          usage: usage(tokensOf(raw), tokensOf(JSON.stringify(turn.blocks))),
        });
      }
      if (req.method === 'POST' && path === '/v1/messages/count_tokens') {
        seen.answered = 'count_tokens';
        return sendJson(res, 200, { input_tokens: tokensOf(raw) });
      }
      if (req.method === 'GET' && path === '/v1/models') {
        seen.answered = 'models';
        const data = [{ type: 'model', id: 'claude-standin', display_name: 'Stand-in' }];
        return sendJson(res, 200, {
          data: data.map((m) => ({ ...m, created_at: '2026-01-01T00:00:00Z' })),
          has_more: false,
          first_id: 'claude-standin',
          last_id: 'claude-standin',
        });
      }
      sendJson(res, 404, {
        type: 'error',
        error: { type: 'not_found_error', message: `no ${path} here` },
      });
    })().catch((err: unknown) => {
      if (!res.headersSent) {
        sendJson(res, 500, { type: 'error', error: { type: 'api_error', message: String(err) } });
      } else res.destroy();
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}
