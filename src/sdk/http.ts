import { ErrorCode, WardenError } from '../core/errors.js';
import type { ErrorCode as Code } from '../core/errors.js';

/** How long an unanswered call is retried (SPEC §3: a `serve` restart must not lose a result). */
export const RETRY_FOR_MS = 10 * 60_000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const CODES = new Set<string>(Object.values(ErrorCode));

/**
 * Calls the warden API. Calls that get no answer (the server is down or restarting, or
 * answers 5xx) are retried with backoff for up to `retryForMs`; an answer with an error code
 * becomes a `WardenError` with the same code, so the exit code matches.
 */
export async function callApi<T>(
  url: string,
  token: string,
  method: 'GET' | 'POST' | 'PATCH',
  path: string,
  body?: unknown,
  retryForMs = RETRY_FOR_MS,
  signal?: AbortSignal,
): Promise<T> {
  const deadline = Date.now() + retryForMs;
  let delay = 200;
  for (;;) {
    let res: Response | null = null;
    let failure = '';
    try {
      res = await fetch(`${url.replace(/\/$/, '')}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.any([
          AbortSignal.timeout(Math.max(1000, Math.min(60_000, deadline - Date.now()))),
          ...(signal ? [signal] : []),
        ]),
      });
    } catch (err) {
      failure =
        (err as Error).cause instanceof Error
          ? ((err as Error).cause as Error).message
          : (err as Error).message;
    }
    if (res !== null && res.status < 500) {
      const text = await res.text();
      const parsed = text === '' ? null : (JSON.parse(text) as unknown);
      if (res.ok) return parsed as T;
      const error = (parsed as { error?: { code?: string; message?: string } } | null)?.error;
      const code =
        error?.code !== undefined && CODES.has(error.code)
          ? (error.code as Code)
          : ErrorCode.invalid;
      throw new WardenError(code, error?.message ?? `HTTP ${res.status}`);
    }
    if (res !== null) failure = `HTTP ${res.status}`;
    if (signal?.aborted) throw new WardenError('setup', `call to ${url} was cancelled`);
    if (Date.now() + delay > deadline) {
      throw new WardenError(
        'setup',
        `no answer from ${url} (${failure}); is warden serve running?`,
      );
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 10_000);
  }
}
