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
 * stand-in keeps no state per conversation. Any other request (a title, a summary) gets "OK",
 * or the `text` of the options.
 *
 * For the model-activity proxy (issue #13) it also paces its answers (`chunks`, `chunkDelayMs`,
 * `firstByteDelayMs`), reports the usage a test asks for (cache reads and writes too: in
 * `message_start` with a little output, then cumulative in `message_delta`, as the API does),
 * answers scripted faults in the API's own shape (429 `rate_limit_error` with `retry-after`,
 * 529 `overloaded_error`, 500 `api_error`, garbage, a cut stream), and counts the requests in
 * flight.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { ServerResponse } from 'node:http';
import type { TokenUsage } from '../../src/core/llm.js';
import {
  Flight,
  arriving,
  listen,
  parseJson,
  pieceText,
  pieces,
  readBody,
  sendGarbage,
  sendJson as sendJsonWith,
  sleep,
  sse,
  standinBase,
  track,
  writeStream,
} from './standin-http.js';
import type { Pacing, SeenRequest, StandinBase } from './standin-http.js';

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

export interface Standin extends StandinBase {
  requests: StandinRequest[];
}

/** Token counts of one answer, as the API reports them. */
export interface AnthropicUsage {
  /** Input tokens not read from or written to the cache. */
  input: number;
  output: number;
  /** `cache_read_input_tokens`. */
  cacheRead: number;
  /** `cache_creation_input_tokens`. */
  cacheWrite: number;
}

export interface AnthropicStandinOptions extends Pacing {
  /** The answer outside the scripted conversation (default "OK"). */
  text?: string;
  /** The usage of each answer (by its index among answered requests, from 0). */
  usage?: AnthropicUsage | ((n: number) => AnthropicUsage);
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

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  sendJsonWith(res, status, body, { 'request-id': newId('req_'), ...headers });
}

/** The usage object of a message, or of `message_start` (with `output` so far). */
function usage(u: AnthropicUsage, output = u.output): Record<string, unknown> {
  return {
    input_tokens: u.input,
    cache_creation_input_tokens: u.cacheWrite,
    cache_read_input_tokens: u.cacheRead,
    cache_creation: { ephemeral_5m_input_tokens: u.cacheWrite, ephemeral_1h_input_tokens: 0 },
    output_tokens: output,
    service_tier: 'standard',
  };
}

/** `message_delta`'s usage: every figure cumulative, the output's final. */
function deltaUsage(u: AnthropicUsage): Record<string, unknown> {
  return {
    input_tokens: u.input,
    cache_creation_input_tokens: u.cacheWrite,
    cache_read_input_tokens: u.cacheRead,
    output_tokens: u.output,
  };
}

function normalised(u: AnthropicUsage): TokenUsage {
  return { input: u.input, output: u.output, cache_read: u.cacheRead, cache_write: u.cacheWrite };
}

/** The error body and headers the API answers `status` with. */
function errorAnswer(
  status: number,
  retryAfter: number | undefined,
): [Record<string, unknown>, Record<string, string>] {
  const error = (type: string, message: string): Record<string, unknown> => ({
    type: 'error',
    error: { type, message },
    request_id: newId('req_'),
  });
  if (status === 429) {
    const wait = retryAfter ?? 1;
    return [
      error(
        'rate_limit_error',
        'This request would exceed the rate limit for your organization of 50 requests per minute.',
      ),
      {
        'retry-after': String(wait),
        'anthropic-ratelimit-requests-limit': '50',
        'anthropic-ratelimit-requests-remaining': '0',
        'anthropic-ratelimit-requests-reset': new Date(Date.now() + wait * 1000).toISOString(),
      },
    ];
  }
  if (status === 529) return [error('overloaded_error', 'Overloaded'), {}];
  if (status === 401) return [error('authentication_error', 'invalid x-api-key'), {}];
  if (status >= 500) return [error('api_error', 'Internal server error'), {}];
  return [error('invalid_request_error', `The request was refused (${status}).`), {}];
}

/** The events of one streamed message, in the order and shape the real API sends them. */
function* events(
  model: string,
  turn: Turn,
  u: AnthropicUsage,
  pacing: Pacing,
): Generator<[string, () => unknown]> {
  yield [
    'message_start',
    () => ({
      type: 'message_start',
      message: {
        id: newId('msg_'),
        type: 'message',
        role: 'assistant',
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: usage(u, Math.min(1, u.output)),
      },
    }),
  ];
  yield ['ping', () => ({ type: 'ping' })];
  for (const [index, block] of turn.blocks.entries()) {
    const start = block.type === 'text' ? { type: 'text', text: '' } : { ...block, input: {} };
    yield [
      'content_block_start',
      () => ({ type: 'content_block_start', index, content_block: start }),
    ];
    // The API sends text and a tool's JSON input in small pieces (a tool's first one empty).
    const parts =
      block.type === 'text'
        ? pieces(block.text, pacing.chunks)
        : ['', ...pieces(JSON.stringify(block.input), undefined)];
    for (const piece of parts) {
      const delta =
        block.type === 'text'
          ? () => ({ type: 'text_delta', text: pieceText(piece, pacing) })
          : () => ({ type: 'input_json_delta', partial_json: piece });
      yield ['content_block_delta', () => ({ type: 'content_block_delta', index, delta: delta() })];
    }
    yield ['content_block_stop', () => ({ type: 'content_block_stop', index })];
  }
  yield [
    'message_delta',
    () => ({
      type: 'message_delta',
      delta: { stop_reason: turn.stop_reason, stop_sequence: null },
      usage: deltaUsage(u),
    }),
  ];
  yield ['message_stop', () => ({ type: 'message_stop' })];
}

async function stream(
  res: ServerResponse,
  model: string,
  turn: Turn,
  u: AnthropicUsage,
  pacing: Pacing,
  cut: boolean,
): Promise<void> {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'request-id': newId('req_'),
  });
  const all = [...events(model, turn, u, pacing)];
  await writeStream(
    res,
    all.length,
    (i) => {
      const [event, data] = all[i] ?? ['ping', () => ({ type: 'ping' })];
      return sse(event, JSON.stringify(data()));
    },
    pacing,
    cut,
  );
}

/** The usage the stand-in made up before tests asked for figures: from the text's length. */
function usageOfText(raw: string, turn: Turn): AnthropicUsage {
  const output = turn.blocks
    .map((b) => tokensOf(b.type === 'text' ? b.text : JSON.stringify(b.input)))
    .reduce((a, b) => a + b, 0);
  return { input: tokensOf(raw), output, cacheRead: 0, cacheWrite: 0 };
}

/**
 * Starts the stand-in on a free port of 127.0.0.1; `server` is the MCP server's name (none:
 * every request gets the plain answer).
 */
export async function startAnthropicStandin(
  steps: readonly Step[],
  server: string,
  options: AnthropicStandinOptions = {},
): Promise<Standin> {
  const requests: StandinRequest[] = [];
  const flight = new Flight();
  const seenAll: SeenRequest[] = [];
  let answered = 0;
  const usageFor = (n: number, raw: string, turn: Turn): AnthropicUsage =>
    typeof options.usage === 'function'
      ? options.usage(n)
      : (options.usage ?? usageOfText(raw, turn));

  const http = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://standin').pathname;
    const seen: StandinRequest = {
      method: req.method ?? '',
      path,
      answered: '404',
      apiKey: req.headers['x-api-key'] !== undefined,
    };
    requests.push(seen);
    const s = arriving(req, path);
    seenAll.push(s);
    track(flight, res, s);
    void (async () => {
      const raw = await readBody(req);
      if (req.method === 'POST' && path === '/v1/messages') {
        const body = parseJson(raw) as MessagesBody;
        s.endpoint = 'messages';
        s.stream = body.stream === true;
        s.model = body.model ?? null;
        const fault = flight.nextFault();
        s.fault = fault?.kind ?? null;
        await sleep(options.firstByteDelayMs ?? 0);
        if (fault?.kind === 'garbage') {
          s.status = 200;
          return sendGarbage(res);
        }
        if (fault?.kind === 'status') {
          s.status = fault.status;
          const [error, extra] = errorAnswer(fault.status, fault.retryAfter);
          return sendJson(res, fault.status, error, extra);
        }
        const main =
          server !== '' && (body.tools ?? []).some((t) => t.name?.startsWith(`mcp__${server}__`));
        const plain: Turn = {
          blocks: [{ type: 'text', text: options.text ?? 'OK' }],
          stop_reason: 'end_turn',
        };
        const [turn, step]: [Turn, string] = main ? turnFor(body, steps, server) : [plain, 'text'];
        seen.answered = main ? 'main' : 'side';
        seen.step = step;
        const model = body.model ?? 'claude-standin';
        const u = usageFor(answered++, raw, turn);
        s.status = 200;
        // A cut stream never reaches its usage.
        if (fault === null) s.usage = normalised(u);
        const cut = fault?.kind === 'cut';
        if (body.stream === true) return await stream(res, model, turn, u, options, cut);
        if (cut) return void res.destroy();
        return sendJson(res, 200, {
          id: newId('msg_'),
          type: 'message',
          role: 'assistant',
          model,
          content: turn.blocks,
          stop_reason: turn.stop_reason,
          stop_sequence: null,
          usage: usage(u),
        });
      }
      if (req.method === 'POST' && path === '/v1/messages/count_tokens') {
        seen.answered = 'count_tokens';
        s.endpoint = 'count_tokens';
        s.status = 200;
        return sendJson(res, 200, { input_tokens: tokensOf(raw) });
      }
      if (req.method === 'GET' && path === '/v1/models') {
        seen.answered = 'models';
        s.endpoint = 'models';
        s.status = 200;
        const data = [{ type: 'model', id: 'claude-standin', display_name: 'Stand-in' }];
        return sendJson(res, 200, {
          data: data.map((m) => ({ ...m, created_at: '2026-01-01T00:00:00Z' })),
          has_more: false,
          first_id: 'claude-standin',
          last_id: 'claude-standin',
        });
      }
      s.status = 404;
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
  const origin = await listen(http);
  // Spread would call the getters once: the base's accessors are kept as they are.
  return Object.assign(standinBase(http, origin, origin, flight, seenAll), { requests });
}
