import { ErrorCode, WardenError } from '../core/errors.js';
import type { ErrorCode as Code } from '../core/errors.js';

/** How long an unanswered call is retried (SPEC §3: a `serve` restart must not lose a result). */
export const RETRY_FOR_MS = 10 * 60_000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const CODES = new Set<string>(Object.values(ErrorCode));

/** An HTTP answer: its status and its body as text. */
interface Answer {
  status: number;
  text: string;
}

/**
 * One request over node:http (node:https for an https URL). Not `fetch`: its first call loads
 * undici, which costs a worker's `warden worker progress` more CPU than all the rest of its
 * start-up (issue #10).
 */
function exchange(
  url: URL,
  method: string,
  token: string,
  body: string | undefined,
  signal: AbortSignal,
): Promise<Answer> {
  // getBuiltinModule, not `import`: an ES module namespace of node:http reads its every
  // export, and its WebSocket getter loads undici anyway.
  const { request } =
    url.protocol === 'https:'
      ? process.getBuiltinModule('node:https')
      : process.getBuiltinModule('node:http');
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    const req = request(url, { method, headers, signal }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
      // A connection cut mid-answer is no answer.
      res.on('close', () => {
        if (!res.complete) reject(new Error('the connection closed before the whole answer came'));
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The last 5xx answer of a call retried until its deadline, with its message when it has one. */
function serverFailed(url: string, res: Answer): string {
  let message: string | undefined;
  try {
    message = (JSON.parse(res.text) as { error?: { message?: string } } | null)?.error?.message;
  } catch {
    message = undefined;
  }
  const detail = message ? `: ${message.split('\n')[0]?.slice(0, 300) ?? ''}` : '';
  return `warden serve at ${url} failed every try with HTTP ${res.status}${detail}; its log says why`;
}

/**
 * Calls the warden API. Calls that get no answer (the server is down or restarting, or
 * answers 5xx) are retried with backoff for up to `retryForMs`; an answer with an error code
 * becomes a `WardenError` with the same code, so the exit code matches.
 */
export async function callApi<T>(
  url: string,
  token: string,
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  path: string,
  body?: unknown,
  retryForMs = RETRY_FOR_MS,
  signal?: AbortSignal,
): Promise<T> {
  // A malformed address is a mistake to say at once, not an outage to wait out for minutes.
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
    throw new WardenError('setup', `'${url}' is not an http(s) URL of warden serve (WARDEN_URL?)`);
  }
  const deadline = Date.now() + retryForMs;
  let delay = 200;
  for (;;) {
    let res: Answer | null = null;
    let failure = '';
    try {
      res = await exchange(
        new URL(`${url.replace(/\/$/, '')}${path}`),
        method,
        token,
        body !== undefined ? JSON.stringify(body) : undefined,
        AbortSignal.any([
          AbortSignal.timeout(Math.max(1000, Math.min(60_000, deadline - Date.now()))),
          ...(signal ? [signal] : []),
        ]),
      );
    } catch (err) {
      failure =
        (err as Error).cause instanceof Error
          ? ((err as Error).cause as Error).message
          : (err as Error).message;
    }
    if (res !== null && res.status < 500) {
      const parsed = res.text === '' ? null : (JSON.parse(res.text) as unknown);
      if (res.status >= 200 && res.status < 300) return parsed as T;
      const error = (parsed as { error?: { code?: string; message?: string } } | null)?.error;
      const code =
        error?.code !== undefined && CODES.has(error.code)
          ? (error.code as Code)
          : ErrorCode.invalid;
      throw new WardenError(code, error?.message ?? `HTTP ${res.status}`);
    }
    if (signal?.aborted) throw new WardenError('setup', `call to ${url} was cancelled`);
    if (Date.now() + delay > deadline) {
      // It answered, with a failure of its own: it is running, and its log says more.
      // `unreachable`: nothing was decided there, so the caller may keep what it sent.
      if (res !== null)
        throw new WardenError('setup', serverFailed(url, res), { unreachable: true });
      throw new WardenError(
        'setup',
        `no answer from ${url} (${failure}); is warden serve running?`,
        {
          unreachable: true,
        },
      );
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 10_000);
  }
}
