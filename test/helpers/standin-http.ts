/**
 * What the model-API stand-ins (`anthropic-standin.ts`, `openai-standin.ts`) share: requests
 * counted in flight, answers paced like a model's, server-sent events framed as the real APIs
 * frame them, and faults a test scripts (429s, overloads, garbage, a cut stream).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TokenUsage } from '../../src/core/llm.js';

/** Pacing of an answer, like a real model's. */
export interface Pacing {
  /** Pieces of text in each answer (a streamed answer sends one event per piece). */
  chunks?: number;
  /** Between two streamed pieces, ms (default 0). */
  chunkDelayMs?: number;
  /** Before the answer's first byte: the model reading its prompt, ms (default 0). */
  firstByteDelayMs?: number;
  /**
   * Each piece of text is the `process.hrtime.bigint()` at which it was written, in ns, so a
   * client in the same process measures each chunk's way to it (bench/proxy-latency.ts).
   */
  stamp?: boolean;
}

/**
 * A scripted answer instead of the normal one: an error of the provider's own shape with
 * `status` (`retryAfter` seconds in `retry-after`), a 200 whose body is not the API's at all
 * (`garbage`: an HTML page), or a stream cut off after its first events (`cut`).
 */
export type Fault =
  { kind: 'status'; status: number; retryAfter?: number } | { kind: 'garbage' } | { kind: 'cut' };

/** One request a stand-in saw. */
export interface SeenRequest {
  method: string;
  path: string;
  /** The query string, with its `?` (or empty). */
  search: string;
  /** The endpoint answered (`chat`, `responses`, `messages`, ...) or `404`. */
  endpoint: string;
  stream: boolean;
  model: string | null;
  /** The status answered. */
  status: number;
  /** The fault it got, if any. */
  fault: Fault['kind'] | null;
  /** The usage the answer reported, normalised as warden counts it; null when it had none. */
  usage: TokenUsage | null;
  /** An API key came with it (`authorization` or `x-api-key`). */
  apiKey: boolean;
  /** `process.hrtime.bigint()` when it arrived and when its answer was fully written. */
  arrived: bigint;
  finished: bigint | null;
}

/** What every stand-in offers a test, besides its own. */
export interface StandinBase {
  /** The base URL an SDK takes (OpenAI's ends in `/v1`, Anthropic's does not). */
  url: string;
  /** `http://127.0.0.1:PORT`. */
  origin: string;
  seen: SeenRequest[];
  /** Requests whose answer is being written now. */
  readonly inFlight: number;
  /** The most requests ever in flight at once. */
  readonly maxInFlight: number;
  /** Faults for the next requests, one each, first in first out. */
  faults: Fault[];
  /** A fault for every request while set (after `faults` run out). */
  always: Fault | null;
  /** Sum of the usage every answer reported. */
  usage(): TokenUsage;
  close(): Promise<void>;
}

export const sleep = (ms: number): Promise<void> =>
  ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The parsed JSON body, or an empty object when it is not JSON. */
export function parseJson(raw: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(raw);
    return v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** Splits `text` into `n` pieces of near-equal length (at least one; none empty unless `text` is). */
export function pieces(text: string, n: number | undefined, size = 16): string[] {
  if (n === undefined) {
    const out: string[] = [];
    for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
    return out.length > 0 ? out : [''];
  }
  const count = Math.max(1, n);
  const step = Math.ceil(text.length / count);
  return Array.from({ length: count }, (_, i) => text.slice(i * step, (i + 1) * step));
}

/** Text of `n` words, for answers. */
export function words(n: number): string {
  const some = ['the', 'model', 'is', 'thinking', 'about', 'your', 'task', 'and', 'answers'];
  return Array.from({ length: n }, (_, i) => some[i % some.length] ?? 'x').join(' ');
}

/** One server-sent event: `event:` (when named) and `data:` lines, then a blank line. */
export function sse(event: string | null, data: string): string {
  return `${event === null ? '' : `event: ${event}\n`}data: ${data}\n\n`;
}

/** A piece of answer text, or its send time in ns when stamping (see `Pacing.stamp`). */
export function pieceText(piece: string, pacing: Pacing): string {
  return pacing.stamp === true ? process.hrtime.bigint().toString() : piece;
}

/**
 * Writes a stream's events with the pacing asked for; `event` builds each one just before it
 * is written (so stamps are fresh). Stops when the client went away. With `cut`, the
 * connection is destroyed after the first two events.
 */
export async function writeStream(
  res: ServerResponse,
  count: number,
  event: (i: number) => string,
  pacing: Pacing,
  cut: boolean,
): Promise<void> {
  for (let i = 0; i < count; i++) {
    if (res.destroyed) return;
    if (cut && i === 2) {
      res.destroy();
      return;
    }
    // The first event is written with the headers; the pace is between events that carry text.
    if (i > 0) await sleep(pacing.chunkDelayMs ?? 0);
    res.write(event(i));
  }
  res.end();
}

/** The HTML page a misconfigured upstream (a web server, a captive portal) answers with. */
export function sendGarbage(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  res.end('<html><head><title>Welcome</title></head><body>It works!</body></html>\n');
}

/** Counts requests in flight; the stand-ins call `enter` as one arrives and `leave` once. */
export class Flight {
  inFlight = 0;
  maxInFlight = 0;
  readonly faults: Fault[] = [];
  always: Fault | null = null;

  enter(): void {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
  }

  leave(): void {
    this.inFlight--;
  }

  /** The fault for the request now arriving, if any. */
  nextFault(): Fault | null {
    return this.faults.shift() ?? this.always;
  }
}

/** Tracks `req` in `flight` until its answer is written or the client went away. */
export function track(flight: Flight, res: ServerResponse, seen: SeenRequest): void {
  flight.enter();
  let left = false;
  const leave = (): void => {
    if (left) return;
    left = true;
    seen.finished = process.hrtime.bigint();
    flight.leave();
  };
  res.on('finish', leave);
  res.on('close', leave);
}

export function sumUsage(seen: readonly SeenRequest[]): TokenUsage {
  const total: TokenUsage = { input: 0, output: 0, cache_read: 0, cache_write: 0 };
  for (const s of seen) {
    if (s.usage === null) continue;
    total.input += s.usage.input;
    total.output += s.usage.output;
    total.cache_read += s.usage.cache_read;
    total.cache_write += s.usage.cache_write;
  }
  return total;
}

/** Listens on a free port of 127.0.0.1 and returns its origin. */
export async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

/** The part of a stand-in every test sees, over its server, counters and requests. */
export function standinBase(
  server: Server,
  url: string,
  origin: string,
  flight: Flight,
  seen: SeenRequest[],
): StandinBase {
  return {
    url,
    origin,
    seen,
    get inFlight() {
      return flight.inFlight;
    },
    get maxInFlight() {
      return flight.maxInFlight;
    },
    faults: flight.faults,
    get always() {
      return flight.always;
    },
    set always(f: Fault | null) {
      flight.always = f;
    },
    usage: () => sumUsage(seen),
    close: () => closeServer(server),
  };
}

/** A request as it arrives, before the stand-in knows what it asks for. */
export function arriving(req: IncomingMessage, path: string): SeenRequest {
  return {
    method: req.method ?? '',
    path,
    search: new URL(req.url ?? '/', 'http://standin').search,
    endpoint: '404',
    stream: false,
    model: null,
    status: 0,
    fault: null,
    usage: null,
    apiKey: req.headers.authorization !== undefined || req.headers['x-api-key'] !== undefined,
    arrived: process.hrtime.bigint(),
    finished: null,
  };
}
