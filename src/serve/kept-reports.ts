import {
  existsSync,
  lstatSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import type { Stats } from 'node:fs';
import { join } from 'node:path';
import type { z } from '@hono/zod-openapi';
import { ApproveBody, AskBody, BlockBody, CompleteBody, FailBody } from '../api/schemas.js';
import type { ReportResult } from '../api/worker-routes.js';
import { dispatcher } from '../core/actor.js';
import { WardenError } from '../core/errors.js';
import type { TerminalCall } from '../core/worker-protocol.js';
import { KEPT_REPORT, KEPT_REPORT_MAX_BYTES, KEPT_REPORT_REFUSAL } from '../sdk/kept-report.js';
import type { KeptReport } from '../sdk/kept-report.js';
import type { Store } from '../store/store.js';

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

/**
 * The report kept in `file`, checked as its route checks a request: a regular file of this
 * user within the API's body limit, bound to this run by its token's hash (a worker cannot
 * book a report for a run whose token it does not hold), its body as the route takes it.
 * Why not, when it is not one.
 */
function readKept(
  file: string,
  st: Stats,
  tokenHash: string,
): { call: TerminalCall } | { problem: string; op?: string } {
  if (!st.isFile()) return { problem: 'not a regular file' };
  if (st.uid !== process.getuid?.()) return { problem: 'not written by this user' };
  if (st.size > KEPT_REPORT_MAX_BYTES)
    return { problem: `larger than ${KEPT_REPORT_MAX_BYTES} bytes` };
  let kept: Partial<KeptReport>;
  try {
    kept = JSON.parse(readFileSync(file, 'utf8')) as Partial<KeptReport>;
  } catch (err) {
    return { problem: `not JSON (${(err as Error).message})` };
  }
  const op = kept.op as TerminalCall['op'];
  const schema = BODIES[op] as z.ZodType | undefined;
  if (schema === undefined) return { problem: `no report op ${JSON.stringify(kept.op)}` };
  if (kept.token_sha256 !== tokenHash) return { problem: "not this run's: its token differs", op };
  const parsed = schema.safeParse(kept.body);
  if (!parsed.success) return { problem: parsed.error.issues[0]?.message ?? 'invalid', op };
  return { call: { op, ...(parsed.data as object) } as TerminalCall };
}

/** The run a kept report may be for, as the supervisor knows it. */
export interface KeptRun {
  runId: number;
  taskId: number;
  board: string;
  runDir: string;
}

/**
 * Books the report a run's worker kept in its folder because `serve` did not answer it
 * (stopped for longer than the worker's retry; sdk/kept-report.ts), through the same path as
 * a report over the API, fenced by the run's token. Booked or refused for good (the run is no
 * longer current, it reported already, the file is not a report), the file is renamed
 * (`.booked`, `.refused`) and said in an event (`kept_report_booked`, `kept_report_refused`)
 * and the log; a refusal's line is kept beside it for the run's ending reason. A store that
 * does not take it now (down, its disk full) leaves it in place, and the error goes to the
 * look, which is tried again.
 */
export function keptReportBooker(
  store: Store,
  report: ReportResult,
  host: string,
  log: (line: string) => void,
): (run: KeptRun) => Promise<void> {
  return async (run) => {
    const file = join(run.runDir, KEPT_REPORT);
    // Asked at every look of every run: nothing but this `lstat` while there is no file.
    let st: Stats;
    try {
      st = lstatSync(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    const tokenHash = await store.runTokenHash(run.runId);
    const kept = readKept(file, st, tokenHash);
    // The file is renamed first: what is booked is decided; the event tells of it after.
    const said = async (
      kind: 'booked' | 'refused',
      line: string,
      payload: Record<string, string>,
    ) => {
      renameSync(file, `${file}.${kind}`);
      log(`run ${run.runId}: ${line}`);
      await store.writeEvent(dispatcher(host), {
        kind: kind === 'booked' ? 'kept_report_booked' : 'kept_report_refused',
        board: run.board,
        task_id: run.taskId,
        run_id: run.runId,
        payload,
      });
    };
    const refuse = (op: string, why: string): Promise<void> => {
      const line = `the ${op.replaceAll('_', '-')} report its worker kept while serve did not answer was refused: ${why}`;
      // Made anew, never through what is there: the run's folder is its worker's to write, and
      // a link there must not have serve write where it points.
      const refusal = join(run.runDir, KEPT_REPORT_REFUSAL);
      rmSync(refusal, { force: true });
      writeFileSync(refusal, `${line}\n`, { flag: 'wx', mode: 0o600 });
      return said('refused', `${line} (${file}.refused)`, { op, message: line });
    };
    if ('problem' in kept) return refuse(kept.op ?? 'terminal', kept.problem);
    try {
      await report(tokenHash, kept.call);
    } catch (err) {
      const later =
        err instanceof WardenError && (err.code === 'storage' || err.code === 'unavailable');
      if (later) throw err;
      return refuse(kept.call.op, err instanceof Error ? err.message : String(err));
    }
    const op = kept.call.op;
    return said(
      'booked',
      `booked the ${op.replaceAll('_', '-')} report its worker kept while serve did not answer`,
      { op },
    );
  };
}

/**
 * At `serve`'s start, after adoption: the reports kept in this home's run folders whose runs
 * it does not watch, because another host ended them while this one was down (its lease
 * lapsed). Each is put to the booker, which refuses it (the run is no longer current) and says
 * so: without this it stayed in its folder with no word, and the task ran again as if its
 * worker had never finished (a trial's).
 */
export async function bookLeftoverReports(
  store: Store,
  book: (run: KeptRun) => Promise<void>,
  runsDir: string,
  watched: (runId: number) => boolean,
  log: (line: string) => void,
): Promise<void> {
  let names: string[];
  try {
    names = readdirSync(runsDir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!/^\d+$/.test(name) || watched(Number(name))) continue;
    const runDir = join(runsDir, name);
    if (!existsSync(join(runDir, KEPT_REPORT))) continue;
    try {
      const run = await store.getRun(Number(name));
      await book({ runId: run.id, taskId: run.task_id, board: run.board, runDir });
    } catch (err) {
      log(`run ${name}: the report its worker kept was not looked at: ${String(err)}`);
    }
  }
}
