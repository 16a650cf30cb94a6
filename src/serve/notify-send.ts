import { createHmac } from 'node:crypto';
import { formatDuration } from '../core/duration.js';
import { maskUrl } from '../core/notify.js';
import type { NotifyRequest } from '../core/notify-message.js';

/** What a target answered to one send. */
export interface SendResult {
  ok: boolean;
  /** The HTTP status, or null when no answer came. */
  status: number | null;
  /** Why it failed, in one line; null when it worked. */
  error: string | null;
  /** The start of what the target answered (for `notify test`). */
  answer: string;
}

/**
 * `X-Warden-Signature`: `sha256=` and the hex HMAC-SHA256, with the secret, of
 * `TIMESTAMP.KEY.BODY`: the `X-Warden-Timestamp` (Unix seconds), the `X-Warden-Delivery` key
 * and the body. A captured request cannot be sent again later, nor under another key.
 */
export function signature(secret: string, timestamp: string, key: string, body: string): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.${key}.${body}`, 'utf8');
  return `sha256=${mac.digest('hex')}`;
}

const ANSWER_CHARS = 200;
/** What is read of an answer's body, at most: the rest is never buffered. */
const ANSWER_BYTES = 1024;

/** The start of an answer's body; the rest is cancelled, so a long or endless body costs nothing. */
async function answerStart(res: Response): Promise<string> {
  if (res.body === null) return '';
  const reader: ReadableStreamDefaultReader<Uint8Array> = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < ANSWER_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  const bytes = Buffer.concat(chunks).subarray(0, ANSWER_BYTES);
  return new TextDecoder().decode(bytes);
}

/**
 * Sends one notification: a POST that must answer 2xx within `timeoutMs`. Redirects are not
 * followed (a 3xx is an answer that failed). Never throws: every failure is a result with a
 * one-line error. `abort` ends it early (serve stopping): an error too.
 */
export async function sendNotification(
  url: string,
  req: NotifyRequest,
  secret: string | null,
  timeoutMs: number,
  abort?: AbortSignal,
): Promise<SendResult> {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const headers: Record<string, string> = { ...req.headers, 'x-warden-timestamp': timestamp };
  if (secret !== null) {
    const key = headers['x-warden-delivery'] ?? '';
    headers['x-warden-signature'] = signature(secret, timestamp, key, req.body);
  }
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = abort ? AbortSignal.any([timeout, abort]) : timeout;
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers,
      body: req.body,
      redirect: 'manual',
      signal,
    });
    const answer = (await answerStart(res)).slice(0, ANSWER_CHARS).replace(/\s+/g, ' ').trim();
    if (res.status >= 200 && res.status < 300) {
      return { ok: true, status: res.status, error: null, answer };
    }
    const said = answer === '' ? '' : `: ${answer}`;
    return { ok: false, status: res.status, error: `HTTP ${res.status}${said}`, answer };
  } catch (err) {
    const error = timeout.aborted
      ? `no answer within ${formatDuration(timeoutMs)}`
      : abort?.aborted
        ? 'stopped before an answer came (serve is stopping)'
        : unreachable(url, causeOf(err)).replaceAll(url, maskUrl(url));
    return { ok: false, status: null, error, answer: '' };
  }
}

function unreachable(url: string, cause: string): string {
  const { host, port } = new URL(url);
  // fetch refuses the ports of well-known services (SMTP, IRC, ...) before connecting.
  if (cause === 'bad port')
    return `cannot send to port ${port}: fetch refuses it; use another port`;
  return `cannot reach ${host}: ${cause}`;
}

/** fetch's "fetch failed" hides the reason (ECONNREFUSED, ENOTFOUND) in its cause. */
function causeOf(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message;
}
