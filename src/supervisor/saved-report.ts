import { readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from '@hono/zod-openapi';
import { ApproveBody, AskBody, BlockBody, CompleteBody, FailBody } from '../api/schemas.js';
import type { TerminalCall } from '../core/worker-protocol.js';
import type { LiveRun } from './live-run.js';
import type { Supervision } from './supervision.js';

/** Where `warden worker` keeps a report `serve` did not answer (cli/worker-call.ts). */
const SAVED_REPORT = 'report.json';

/** Each terminal report's body, as its worker route checks it. */
const BODIES: Record<TerminalCall['op'], z.ZodType> = {
  complete: CompleteBody,
  request_review: CompleteBody.omit({ created: true }),
  fail: FailBody,
  block: BlockBody,
  ask: AskBody,
  approve: ApproveBody,
  request_changes: FailBody,
};

/** A saved report read back, checked as its route checks it; why not, when it is not one. */
function readSaved(file: string): { call: TerminalCall } | { problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    return { problem: `not JSON (${(err as Error).message})` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { problem: 'not a JSON object' };
  const { op, ...body } = value as Record<string, unknown>;
  delete body.saved_at;
  const schema = typeof op === 'string' ? BODIES[op as TerminalCall['op']] : undefined;
  if (schema === undefined) return { problem: `no report op ${JSON.stringify(op)}` };
  const parsed = schema.safeParse(body);
  if (!parsed.success) return { problem: parsed.error.issues[0]?.message ?? 'invalid' };
  return { call: { op, ...(parsed.data as object) } as TerminalCall };
}

/**
 * Books the report the worker kept in its run's folder because `serve` did not answer it
 * (stopped for longer than the worker's retry): as if it had come through the API, fenced by
 * the run's token, before the worker's exit is read. The file is renamed once read, so it is
 * booked once. A report the store refuses (the run is no longer current, or reported already)
 * is said in the log, and the exit is read as it would have been.
 */
export async function bookSavedReport(sv: Supervision, live: LiveRun): Promise<void> {
  const file = join(live.runDir, SAVED_REPORT);
  let saved: ReturnType<typeof readSaved>;
  try {
    renameSync(file, `${file}.read`);
    saved = readSaved(`${file}.read`);
  } catch {
    return;
  }
  const { store, host, config } = sv.opts;
  if ('problem' in saved) {
    sv.log(
      `run ${live.runId}: the report its worker kept (${SAVED_REPORT}) is not one: ${saved.problem}`,
    );
    return;
  }
  try {
    await store.workerTerminal(await store.runTokenHash(live.runId), saved.call, { host, config });
    live.usedProtocol = true;
    sv.log(
      `run ${live.runId}: booked the ${saved.call.op} report its worker kept while serve did not answer`,
    );
  } catch (err) {
    sv.log(
      `run ${live.runId}: the ${saved.call.op} report its worker kept was refused: ${String(err)}`,
    );
  }
}
