import type { IncomingMessage } from 'node:http';
import type { Context, MiddlewareHandler } from 'hono';
import { INPUT_LIMITS } from '../core/defaults.js';
import { ErrorCode, WardenError, invalid } from '../core/errors.js';
import { jsonDepth } from '../core/checks.js';
import { errorResponse } from './errors.js';

// Invalid UTF-8 is refused, never replaced with U+FFFD behind the sender's back.
const utf8 = new TextDecoder('utf-8', { fatal: true });

function quoted(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
}

const NO_TYPE = 'a request body needs Content-Type: application/json';

function unsupported(message: string): WardenError {
  return new WardenError(ErrorCode.unsupported_media_type, message);
}

/**
 * Why a `Content-Type` does not declare JSON in UTF-8, or null when it does:
 * `application/json`, with no charset or `charset=utf-8`.
 */
export function contentTypeProblem(header: string): string | null {
  if (header.trim() === '') return NO_TYPE;
  const [type = '', ...params] = header.split(';');
  if (type.trim().toLowerCase() !== 'application/json') {
    return `Content-Type ${quoted(header)} is not JSON; send Content-Type: application/json`;
  }
  for (const param of params) {
    const eq = param.indexOf('=');
    if (!/^\s*[A-Za-z0-9-]+=[^;]+$/.test(param)) {
      return `Content-Type ${quoted(header)} has a malformed parameter; send Content-Type: application/json`;
    }
    if (param.slice(0, eq).trim().toLowerCase() !== 'charset') continue;
    const charset = param
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1')
      .toLowerCase();
    if (charset !== 'utf-8' && charset !== 'utf8') {
      return `charset ${quoted(charset)} is not supported; send the body as UTF-8 (charset=utf-8)`;
    }
  }
  return null;
}

/** The Node request under Hono's when @hono/node-server serves the app (as `serve` does). */
export function incomingOf(c: Context): IncomingMessage | null {
  return (c.env as { incoming?: IncomingMessage } | undefined)?.incoming ?? null;
}

/** The one line for a body over the limit. */
export function tooLarge(max: number): WardenError {
  return invalid(`request body is larger than ${max} bytes`);
}

/**
 * A body's bytes read straight from Node's request, counted as they come (a Content-Length
 * may be missing or wrong), or `null` past `max`. Hono's own reading made a fetch Request and
 * a web stream for every body, a third of the API's time per call under load.
 */
async function readNode(incoming: IncomingMessage, max: number): Promise<Uint8Array | null> {
  if (Number(incoming.headers['content-length'] ?? 0) > max) return null;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of incoming as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

/** Decodes and parses a JSON body, or says in one line why it cannot be used. */
function parseJson(
  type: string | undefined,
  bytes: Uint8Array,
): { text: string } | WardenError | null {
  const problem = type === undefined ? null : contentTypeProblem(type);
  if (problem !== null) return unsupported(problem);
  // No body and no Content-Type: the route sees `{}` (docs/api.md, Conventions).
  if (type === undefined) return bytes.byteLength === 0 ? null : unsupported(NO_TYPE);
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return invalid('request body is not valid UTF-8; send JSON encoded as UTF-8');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return invalid('malformed JSON in request body; send one JSON object');
  }
  const max = INPUT_LIMITS.json_max_depth;
  if (jsonDepth(value, max) > max) {
    return invalid(`request body nests arrays and objects deeper than ${max} levels; flatten it`);
  }
  return { text };
}

/**
 * The edge of every JSON body (SPEC §9): a body must declare `application/json` in UTF-8
 * (415 otherwise), be valid UTF-8 and JSON, and nest no deeper than
 * `INPUT_LIMITS.json_max_depth` (400 otherwise). The checked text is handed to the routes'
 * schemas, which parse it again and so see exactly what was checked here.
 */
export function jsonBodies(max: number): MiddlewareHandler {
  return async (c, next) => {
    const incoming = incomingOf(c);
    let bytes: Uint8Array;
    if (incoming) {
      if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
      const read = await readNode(incoming, max);
      if (read === null) return errorResponse(c, tooLarge(max));
      bytes = read;
    } else {
      // Not served by Node (`app.request` in tests): Hono's body limit has wrapped the body.
      if (c.req.raw.body === null) return next();
      bytes = new Uint8Array(await c.req.arrayBuffer());
    }
    const read = parseJson(c.req.header('content-type'), bytes);
    if (read instanceof WardenError) return errorResponse(c, read);
    // Hono's validators read `c.req.json()`, which parses the cached text (a promise of it, as
    // Hono keeps it, whatever its type says). Cached as parsed JSON instead, it was turned
    // back into text through a fetch Response at every request.
    const cache = c.req.bodyCache as { text?: Promise<string> };
    if (read !== null) cache.text = Promise.resolve(read.text);
    return next();
  };
}
