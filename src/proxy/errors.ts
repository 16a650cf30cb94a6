import type { ServerResponse } from 'node:http';
import type { LlmKind } from '../core/llm.js';

/**
 * warden's own answers at the proxy, in the shape of the provider the agent thinks it talks
 * to, so the agent prints the message and its SDK treats the status as it would the
 * provider's: Anthropic `{"type":"error","error":{"type","message"}}`, OpenAI
 * `{"error":{"message","type","code","param"}}`. Refusals that retrying cannot change say
 * `x-should-retry: false`, which both official SDKs obey.
 */

export interface ProxyRefusal {
  status: number;
  /** Anthropic's error type. */
  anthropic: string;
  /** OpenAI's error type and code. */
  openai: string;
  message: string;
  /** Whether the agent's SDK may retry it. */
  retry: boolean;
}

/** A budget is spent: Anthropic's spend-limit answer (400) and OpenAI's quota answer (429). */
export function budgetRefusal(kind: LlmKind, figures: string): ProxyRefusal {
  return {
    status: kind === 'anthropic' ? 400 : 429,
    anthropic: 'invalid_request_error',
    openai: 'insufficient_quota',
    message: `warden: budget spent: ${figures}; the task is blocked until a person raises the budget and unblocks it`,
    retry: false,
  };
}

/** The run is no longer current (SPEC §3 "Fencing"). */
export function staleRefusal(message: string): ProxyRefusal {
  return { status: 409, anthropic: 'stale_run', openai: 'stale_run', message, retry: false };
}

export function writeRefusal(res: ServerResponse, kind: LlmKind, r: ProxyRefusal): void {
  const body =
    kind === 'anthropic'
      ? { type: 'error', error: { type: r.anthropic, message: r.message } }
      : { error: { message: r.message, type: r.openai, code: r.openai, param: null } };
  const text = JSON.stringify(body);
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(r.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...(r.retry ? {} : { 'x-should-retry': 'false' }),
  });
  res.end(text);
}
