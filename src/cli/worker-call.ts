import { WardenError } from '../core/errors.js';
import { callApi } from '../sdk/http.js';
import { sendOrKeep } from '../sdk/kept-report.js';
import { say, sayJson } from './output.js';

/** Where a worker's calls go: its run's API and token (SPEC §5). */
function endpoint(): { url: string; token: string } {
  const url = process.env.WARDEN_URL;
  const token = process.env.WARDEN_RUN_TOKEN;
  if (!url || !token) {
    throw new WardenError(
      'setup',
      'WARDEN_URL and WARDEN_RUN_TOKEN are not set; `warden worker` runs inside a worker that warden started',
    );
  }
  return { url, token };
}

/** One `warden worker` call to the worker routes, retried while `serve` does not answer. */
export async function call(
  path: string,
  body?: unknown,
  method: 'GET' | 'POST' = 'POST',
): Promise<unknown> {
  const { url, token } = endpoint();
  const retry = process.env.WARDEN_RETRY_FOR_MS;
  if (retry !== undefined && !/^\d+$/.test(retry)) {
    throw new WardenError(
      'setup',
      `WARDEN_RETRY_FOR_MS='${retry}' is not a number of milliseconds`,
    );
  }
  return callApi(
    url,
    token,
    method,
    `/api/v1/worker${path}`,
    body,
    retry === undefined ? undefined : Number(retry),
  );
}

/** Prints the answer as JSON with `--json`, else the line. */
export function print(json: boolean | undefined, value: unknown, line: string): void {
  if (json) sayJson(value);
  else say(line);
}

/** A worker's `progress` or `heartbeat` call. */
export async function signal(
  kind: 'progress' | 'heartbeat',
  opts: { note?: string; json?: boolean },
): Promise<void> {
  const r = await call(`/${kind}`, opts.note === undefined ? {} : { note: opts.note });
  print(opts.json, r, 'ok');
}

/**
 * A worker's terminal report (`complete`, `fail`, `block`, ...). When `serve` does not answer
 * for the whole retry (stopped for longer, or failing), the report is kept in the run's folder
 * (sdk/kept-report.ts) and `serve` books it as soon as it is back. The command then
 * succeeds, saying so on standard error; the report may still be refused then, as any report
 * of a run that is no longer current is.
 */
export async function report(
  path: string,
  op: string,
  body: Record<string, unknown>,
): Promise<{ answer: unknown; kept: string | null }> {
  const sent = await sendOrKeep(
    () => call(path, body),
    process.env.WARDEN_RUN_DIR,
    endpoint().token,
    op,
    body,
  );
  if ('answer' in sent) return { answer: sent.answer, kept: null };
  process.stderr.write(
    `warden: ${sent.why.message}\nwarden: the report is kept in ${sent.kept}; serve books it as soon as it is back\n`,
  );
  return { answer: { kept: sent.kept }, kept: sent.kept };
}
