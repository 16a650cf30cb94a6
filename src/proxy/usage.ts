import type { LlmKind, TokenUsage } from '../core/llm.js';

/**
 * Reads token usage out of a model response as it streams past, without holding it up: the
 * proxy writes each chunk to the agent first and hands it here after. Server-sent events are
 * cut into events and only those that name `usage` or a `model` not yet known are parsed; a
 * plain JSON answer is kept (up to a bound) and parsed at its end.
 *
 * What each API sends (docs/llm-proxy.md):
 * - Anthropic: `message_start` carries `message.usage` (input, cache reads and writes) and the
 *   model; `message_delta` carries `usage` with the output so far (and, lately, the input too).
 *   Later figures replace earlier ones, field by field.
 * - OpenAI chat completions: the last chunk carries `usage` when the client asked for it
 *   (`stream_options.include_usage`); `prompt_tokens` include the cached tokens and those
 *   written to the cache (`prompt_tokens_details.cached_tokens`, `.cache_write_tokens`).
 * - OpenAI responses: `response.completed` carries `response.usage` (`input_tokens` include
 *   `input_tokens_details.cached_tokens` and `.cache_write_tokens`).
 */

/** Largest non-streamed answer kept to read its usage. Bigger ones are passed on unread. */
const MAX_JSON_BYTES = 8 * 1024 * 1024;

type Obj = Record<string, unknown>;

function obj(value: unknown): Obj | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Obj)
    : null;
}

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0
    ? Math.round(value)
    : null;
}

/** Usage as the figures seen so far; null fields were never sent. */
interface Seen {
  input: number | null;
  output: number | null;
  cache_read: number | null;
  cache_write: number | null;
}

export class UsageTap {
  private model: string | null = null;
  private seen: Seen = { input: null, output: null, cache_read: null, cache_write: null };
  private sawUsage = false;
  private readonly sse: boolean;
  private text = '';
  private json: Buffer[] = [];
  private jsonBytes = 0;
  private problem: string | null = null;
  private refusal: string | null = null;
  private readonly decoder = new TextDecoder();

  constructor(
    private readonly kind: LlmKind,
    contentType: string | undefined,
  ) {
    this.sse = (contentType ?? '').includes('text/event-stream');
  }

  /** One chunk of the answer's body, as it was passed on. */
  feed(chunk: Buffer): void {
    if (this.sse) {
      this.text += this.decoder.decode(chunk, { stream: true });
      this.events();
    } else if (this.jsonBytes + chunk.length <= MAX_JSON_BYTES) {
      this.json.push(chunk);
      this.jsonBytes += chunk.length;
    } else {
      this.json = [];
      this.jsonBytes = Infinity;
    }
  }

  /** The answer is complete: reads what is left. */
  end(): void {
    if (this.sse) {
      this.text += `${this.decoder.decode()}\n\n`;
      this.events();
      return;
    }
    if (this.jsonBytes === Infinity || this.jsonBytes === 0) return;
    const body = Buffer.concat(this.json).toString('utf8');
    this.json = [];
    try {
      this.take(JSON.parse(body));
    } catch {
      this.problem = `the answer is not JSON (${body.slice(0, 80).replace(/\s+/g, ' ')})`;
    }
  }

  /** The model that answered, as the answer names it. */
  get modelName(): string | null {
    return this.model;
  }

  /** The tokens used; zeros when the answer carried no usage. */
  get tokens(): TokenUsage {
    const s = this.seen;
    return {
      input: s.input ?? 0,
      output: s.output ?? 0,
      cache_read: s.cache_read ?? 0,
      cache_write: s.cache_write ?? 0,
    };
  }

  /** Whether any usage was read. */
  get hasUsage(): boolean {
    return this.sawUsage;
  }

  /**
   * The error an upstream's answer named (`authentication_error: invalid x-api-key`), read
   * from Anthropic's `{"type":"error","error":{...}}` and OpenAI's `{"error":{...}}`.
   */
  get upstreamError(): string | null {
    return this.refusal;
  }

  /** Why the answer could not be read, if it could not. */
  get error(): string | null {
    return this.problem;
  }

  private events(): void {
    for (;;) {
      const cut = this.text.search(/\r?\n\r?\n/);
      if (cut < 0) break;
      const event = this.text.slice(0, cut);
      this.text = this.text.slice(cut).replace(/^\r?\n\r?\n/, '');
      this.event(event);
    }
  }

  private event(block: string): void {
    // Most events are text deltas: only those naming usage, or the first naming a model, are read.
    if (!block.includes('"usage"') && (this.model !== null || !block.includes('"model"'))) return;
    const data = block
      .split(/\r?\n/)
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(5).replace(/^ /, ''))
      .join('\n');
    if (data === '' || data === '[DONE]') return;
    try {
      this.take(JSON.parse(data));
    } catch {
      this.problem ??= `an event of the stream is not JSON (${data.slice(0, 80)})`;
    }
  }

  /** Takes the model and usage from a parsed event or answer, wherever the API puts them. */
  private take(value: unknown): void {
    const o = obj(value);
    if (!o) return;
    const error = obj(o.error);
    if (error && typeof error.message === 'string' && this.refusal === null) {
      const kind = typeof error.type === 'string' ? error.type : null;
      this.refusal = `${kind === null ? '' : `${kind}: `}${error.message}`.slice(0, 300);
    }
    // Anthropic `message_start`, OpenAI responses' `response.*` events.
    const inner = obj(o.message) ?? obj(o.response);
    for (const source of [o, inner]) {
      if (!source) continue;
      if (typeof source.model === 'string' && this.model === null) this.model = source.model;
      const usage = obj(source.usage);
      if (usage) this.usage(usage);
    }
  }

  private usage(u: Obj): void {
    this.sawUsage = true;
    const set = (field: keyof Seen, value: number | null): void => {
      if (value !== null) this.seen[field] = value;
    };
    if (this.kind === 'anthropic') {
      set('input', num(u.input_tokens));
      set('output', num(u.output_tokens));
      set('cache_read', num(u.cache_read_input_tokens));
      set('cache_write', num(u.cache_creation_input_tokens));
      return;
    }
    // OpenAI: chat completions name prompt/completion tokens, responses input/output tokens;
    // both count cached input inside the input.
    const details = obj(u.prompt_tokens_details) ?? obj(u.input_tokens_details);
    const cached = num(details?.cached_tokens) ?? 0;
    const written = num(details?.cache_write_tokens) ?? 0;
    const input = num(u.prompt_tokens) ?? num(u.input_tokens);
    const output = num(u.completion_tokens) ?? num(u.output_tokens);
    if (input !== null) set('input', Math.max(0, input - cached - written));
    set('output', output);
    set('cache_read', cached);
    set('cache_write', written);
  }
}
