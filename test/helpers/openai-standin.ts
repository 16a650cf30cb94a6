/**
 * A stand-in for the OpenAI API with no network (issue #13): `POST /v1/chat/completions` and
 * `POST /v1/responses`, streamed and not, in the shapes and order the real API sends them, so
 * the official `openai` client runs against it unchanged (its stream helpers check the events'
 * order and fields).
 *
 * - Chat completions, streamed: `data:` lines of `chat.completion.chunk` objects (the role
 *   first, then the content in pieces, then the `finish_reason`), then with
 *   `stream_options.include_usage` one more chunk with empty `choices` and the `usage` (every
 *   earlier chunk then carries `"usage": null`), then `data: [DONE]`.
 * - Responses, streamed: named events with a `sequence_number`: `response.created`,
 *   `response.in_progress`, `response.output_item.added`, `response.content_part.added`,
 *   `response.output_text.delta`..., `response.output_text.done`, `response.content_part.done`,
 *   `response.output_item.done`, `response.completed` (whose `response.usage` is the usage); no
 *   `[DONE]`.
 * - Errors: `{"error": {"message", "type", "param", "code"}}` with the API's status, a 429
 *   with `retry-after` and the `x-ratelimit-*` headers; an unknown path gets the API's 404.
 *
 * Usage: `prompt` tokens include the `cached` ones (`prompt_tokens_details.cached_tokens`,
 * `input_tokens_details.cached_tokens`), as the API counts them.
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
  sendJson,
  sleep,
  sse,
  standinBase,
  track,
  words,
  writeStream,
} from './standin-http.js';
import type { Fault, Pacing, SeenRequest, StandinBase } from './standin-http.js';

/** Token counts of one answer, as the API reports them. */
export interface OpenAIUsage {
  /** All input tokens, cached ones included. */
  prompt: number;
  completion: number;
  /** Of `prompt`, read from the prompt cache. */
  cached: number;
  /** Of `completion`, reasoning. */
  reasoning?: number;
}

export interface OpenAIStandinOptions extends Pacing {
  /** The usage of each answer (by its index among answered requests, from 0). */
  usage?: OpenAIUsage | ((n: number) => OpenAIUsage);
}

export type OpenAIStandin = StandinBase;

const DEFAULT_USAGE: OpenAIUsage = { prompt: 120, completion: 30, cached: 0 };

const newId = (prefix: string): string => `${prefix}${randomBytes(12).toString('hex')}`;

/** The usage as warden counts it: cached input apart from the rest. */
function normalised(u: OpenAIUsage): TokenUsage {
  return { input: u.prompt - u.cached, output: u.completion, cache_read: u.cached, cache_write: 0 };
}

function chatUsage(u: OpenAIUsage): Record<string, unknown> {
  return {
    prompt_tokens: u.prompt,
    completion_tokens: u.completion,
    total_tokens: u.prompt + u.completion,
    prompt_tokens_details: { cached_tokens: u.cached, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: u.reasoning ?? 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

function responsesUsage(u: OpenAIUsage): Record<string, unknown> {
  return {
    input_tokens: u.prompt,
    input_tokens_details: { cached_tokens: u.cached },
    output_tokens: u.completion,
    output_tokens_details: { reasoning_tokens: u.reasoning ?? 0 },
    total_tokens: u.prompt + u.completion,
  };
}

function headers(): Record<string, string> {
  return {
    'x-request-id': newId('req_'),
    'openai-processing-ms': '12',
    'openai-version': '2020-10-01',
  };
}

/** The error body and headers the API answers `status` with. */
function errorAnswer(
  status: number,
  retryAfter: number | undefined,
): [Record<string, unknown>, Record<string, string>] {
  const error = (message: string, type: string, code: string | null): Record<string, unknown> => ({
    error: { message, type, param: null, code },
  });
  if (status === 429) {
    const wait = retryAfter ?? 1;
    return [
      error(
        `Rate limit reached for gpt-standin in organization org-standin on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in ${wait}s.`,
        'requests',
        'rate_limit_exceeded',
      ),
      {
        'retry-after': String(wait),
        'x-ratelimit-limit-requests': '3',
        'x-ratelimit-remaining-requests': '0',
        'x-ratelimit-reset-requests': `${wait}s`,
      },
    ];
  }
  if (status === 503) {
    return [
      error('The engine is currently overloaded, please try again later.', 'server_error', null),
      {},
    ];
  }
  if (status >= 500) {
    return [
      error(
        'The server had an error while processing your request. Sorry about that!',
        'server_error',
        null,
      ),
      {},
    ];
  }
  return [error(`The request was refused (${status}).`, 'invalid_request_error', null), {}];
}

function sendFault(res: ServerResponse, fault: Fault): void {
  if (fault.kind === 'garbage') return sendGarbage(res);
  if (fault.kind === 'status') {
    const [body, extra] = errorAnswer(fault.status, fault.retryAfter);
    return sendJson(res, fault.status, body, { ...headers(), ...extra });
  }
}

interface Answer {
  model: string;
  text: string[];
  usage: OpenAIUsage;
}

async function chat(
  res: ServerResponse,
  body: Record<string, unknown>,
  a: Answer,
  pacing: Pacing,
  cut: boolean,
): Promise<void> {
  const id = newId('chatcmpl-');
  const created = Math.floor(Date.now() / 1000);
  const base = {
    id,
    object: 'chat.completion.chunk',
    created,
    model: a.model,
    service_tier: 'default',
    system_fingerprint: 'fp_standin',
  };
  if (body.stream !== true) {
    return sendJson(
      res,
      200,
      {
        id,
        object: 'chat.completion',
        created,
        model: a.model,
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content: a.text.join(''),
              refusal: null,
              annotations: [],
            },
            logprobs: null,
            finish_reason: 'stop',
          },
        ],
        usage: chatUsage(a.usage),
        service_tier: 'default',
        system_fingerprint: 'fp_standin',
      },
      headers(),
    );
  }
  const options = body.stream_options as { include_usage?: boolean } | undefined;
  const withUsage = options?.include_usage === true;
  const chunk = (choice: Record<string, unknown> | null, usage?: unknown): string =>
    sse(
      null,
      JSON.stringify({
        ...base,
        choices: choice === null ? [] : [{ index: 0, logprobs: null, ...choice }],
        ...(withUsage ? { usage: usage ?? null } : {}),
      }),
    );
  // role, the pieces, finish_reason, [usage], [DONE]
  const count = a.text.length + 3 + (withUsage ? 1 : 0);
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', ...headers() });
  await writeStream(
    res,
    count,
    (i) => {
      if (i === 0)
        return chunk({
          delta: { role: 'assistant', content: '', refusal: null },
          finish_reason: null,
        });
      if (i <= a.text.length)
        return chunk({
          delta: { content: pieceText(a.text[i - 1] ?? '', pacing) },
          finish_reason: null,
        });
      if (i === a.text.length + 1) return chunk({ delta: {}, finish_reason: 'stop' });
      if (withUsage && i === a.text.length + 2) return chunk(null, chatUsage(a.usage));
      return sse(null, '[DONE]');
    },
    pacing,
    cut,
  );
}

async function responses(
  res: ServerResponse,
  body: Record<string, unknown>,
  a: Answer,
  pacing: Pacing,
  cut: boolean,
): Promise<void> {
  const id = newId('resp_');
  const itemId = newId('msg_');
  const created = Math.floor(Date.now() / 1000);
  const whole = a.text.join('');
  const response = (
    status: 'in_progress' | 'completed',
    output: unknown[],
    usage: unknown,
  ): Record<string, unknown> => ({
    id,
    object: 'response',
    created_at: created,
    status,
    background: false,
    error: null,
    incomplete_details: null,
    instructions: null,
    max_output_tokens: null,
    model: a.model,
    output,
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    store: true,
    temperature: 1,
    text: { format: { type: 'text' } },
    tool_choice: 'auto',
    tools: [],
    top_p: 1,
    truncation: 'disabled',
    usage,
    user: null,
    metadata: {},
  });
  const part = (text: string): Record<string, unknown> => ({
    type: 'output_text',
    annotations: [],
    logprobs: [],
    text,
  });
  const item = (
    status: 'in_progress' | 'completed',
    content: unknown[],
  ): Record<string, unknown> => ({
    id: itemId,
    type: 'message',
    status,
    content,
    role: 'assistant',
  });
  const done = response('completed', [item('completed', [part(whole)])], responsesUsage(a.usage));
  if (body.stream !== true) return sendJson(res, 200, done, headers());

  const at = { output_index: 0, item_id: itemId, content_index: 0 };
  const n = a.text.length;
  const event = (i: number): [string, Record<string, unknown>] => {
    if (i === 0) return ['response.created', { response: response('in_progress', [], null) }];
    if (i === 1) return ['response.in_progress', { response: response('in_progress', [], null) }];
    if (i === 2)
      return ['response.output_item.added', { output_index: 0, item: item('in_progress', []) }];
    if (i === 3) return ['response.content_part.added', { ...at, part: part('') }];
    if (i < 4 + n)
      return [
        'response.output_text.delta',
        { ...at, delta: pieceText(a.text[i - 4] ?? '', pacing), logprobs: [] },
      ];
    if (i === 4 + n) return ['response.output_text.done', { ...at, text: whole, logprobs: [] }];
    if (i === 5 + n) return ['response.content_part.done', { ...at, part: part(whole) }];
    if (i === 6 + n)
      return [
        'response.output_item.done',
        { output_index: 0, item: item('completed', [part(whole)]) },
      ];
    return ['response.completed', { response: done }];
  };
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', ...headers() });
  await writeStream(
    res,
    8 + n,
    (i) => {
      const [type, data] = event(i);
      return sse(type, JSON.stringify({ type, ...data, sequence_number: i }));
    },
    pacing,
    cut,
  );
}

/** Starts the stand-in on a free port of 127.0.0.1; its `url` ends in `/v1`. */
export async function startOpenAIStandin(
  options: OpenAIStandinOptions = {},
): Promise<OpenAIStandin> {
  const flight = new Flight();
  const seen: SeenRequest[] = [];
  let answered = 0;
  const usageFor = (n: number): OpenAIUsage =>
    typeof options.usage === 'function' ? options.usage(n) : (options.usage ?? DEFAULT_USAGE);

  const http = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://standin').pathname;
    const s = arriving(req, path);
    seen.push(s);
    track(flight, res, s);
    void (async () => {
      const body = parseJson(await readBody(req));
      s.stream = body.stream === true;
      s.model = typeof body.model === 'string' ? body.model : null;
      const endpoint =
        req.method === 'POST' && path === '/v1/chat/completions'
          ? 'chat'
          : req.method === 'POST' && path === '/v1/responses'
            ? 'responses'
            : null;
      if (endpoint === null) {
        s.status = 404;
        return sendJson(
          res,
          404,
          {
            error: {
              message: `Invalid URL (${req.method} ${path})`,
              type: 'invalid_request_error',
              param: null,
              code: null,
            },
          },
          headers(),
        );
      }
      s.endpoint = endpoint;
      const fault = flight.nextFault();
      s.fault = fault?.kind ?? null;
      await sleep(options.firstByteDelayMs ?? 0);
      if (fault !== null && fault.kind !== 'cut') {
        s.status = fault.kind === 'status' ? fault.status : 200;
        return sendFault(res, fault);
      }
      const usage = usageFor(answered++);
      const answer: Answer = {
        model: s.model ?? 'gpt-standin',
        text: pieces(words(Math.max(8, options.chunks ?? 5)), options.chunks ?? 5),
        usage,
      };
      s.status = 200;
      // A cut stream never reaches its usage.
      if (fault === null) s.usage = normalised(usage);
      const cut = fault?.kind === 'cut';
      if (cut && !s.stream) return void res.destroy();
      const write = endpoint === 'chat' ? chat : responses;
      await write(res, body, answer, options, cut);
    })().catch((err: unknown) => {
      if (!res.headersSent) {
        sendJson(res, 500, {
          error: { message: String(err), type: 'server_error', param: null, code: null },
        });
      } else res.destroy();
    });
  });
  const origin = await listen(http);
  return standinBase(http, `${origin}/v1`, origin, flight, seen);
}
