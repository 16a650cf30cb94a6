import { StringDecoder } from 'node:string_decoder';
import type { Command } from 'commander';
import { ReadableLog } from '../../core/readable-log.js';
import { parseTaskId } from '../../core/checks.js';
import { invalid, notFound } from '../../core/errors.js';
import type { Run } from '../../core/run.js';
import { MARKER_BYTES, readLog, runLogPath } from '../../os/run-log.js';
import { READING, withContext } from '../context.js';

/** How much of the log one read takes, and how often `--follow` looks for more. */
const PIECE = 1024 * 1024;
const FOLLOW_EVERY_MS = 200;
/**
 * How long a read waits for a cut under way to finish (a cut takes milliseconds). A cut still
 * under way after that is not waited for again until a read finds none.
 */
const WAIT_FOR_CUT_MS = 2000;
/** How often `--follow` asks the store whether the run has ended. */
const STATE_EVERY_MS = 1000;

/** Writes to stdout, waiting when the reader is behind (a log may be 100 MiB). */
async function write(data: Buffer): Promise<void> {
  if (data.length === 0 || process.stdout.write(data)) return;
  await new Promise((resolve) => process.stdout.once('drain', resolve));
}

/**
 * `--readable`: each whole line as a person reads it (src/core/readable-log.ts), a piece cut
 * mid-character or mid-line kept for the next; `end` writes what is left.
 */
function readableOut(): { out: (data: Buffer) => Promise<void>; end: () => Promise<void> } {
  const decoder = new StringDecoder('utf8');
  const log = new ReadableLog();
  return {
    out: (data) => write(Buffer.from(log.push(decoder.write(data)))),
    end: () => write(Buffer.from(log.push(decoder.end()) + log.end())),
  };
}

/** The run to show: `--run ID` (one of the task's), or its latest. */
function pickRun(taskId: number, runs: readonly Run[], runText: string | undefined): Run {
  if (runText === undefined) {
    const latest = runs.reduce<Run | undefined>((a, r) => (a && a.id > r.id ? a : r), undefined);
    if (!latest) throw notFound(`task ${taskId} has no runs yet, so no log`);
    return latest;
  }
  if (
    !/^\d+$/.test(runText.trim()) ||
    !Number.isSafeInteger(Number(runText)) ||
    Number(runText) < 1
  ) {
    throw invalid(
      `--run: '${runText}' is not a run id; ids are whole numbers such as 14 (see warden runs ${taskId})`,
    );
  }
  const run = runs.find((r) => r.id === Number(runText));
  if (!run) {
    const ids = runs.map((r) => r.id).join(', ');
    throw notFound(
      `task ${taskId} has no run ${runText}; ${ids ? `its runs are ${ids}` : 'it has no runs yet'} (see warden runs ${taskId})`,
    );
  }
  return run;
}

/**
 * Prints the log, and with `live` (`--follow`) keeps printing until `live` says the run has
 * ended. When the shim cuts the log's middle meanwhile, the place reached is found again from
 * the bytes cut: output already shown is not shown twice, and if the cut passed the place, the
 * marker line that says so is shown, then what follows it.
 */
async function print(
  path: string,
  live: (() => Promise<boolean>) | null,
  out: (data: Buffer) => Promise<void> = write,
): Promise<void> {
  let at = 0;
  let cut: number | null = null;
  let going = live !== null;
  let asked = Date.now();
  let wait = WAIT_FOR_CUT_MS;
  for (;;) {
    const slice = readLog(path, at, PIECE, wait);
    wait = slice.cutting ? 0 : WAIT_FOR_CUT_MS;
    if (cut !== null && slice.cut !== cut && slice.marker !== null) {
      // Cut since the last read: the bytes after the marker moved down by what was cut (and,
      // at the first cut, up by the marker line). Read again from the place found.
      if (at > slice.marker) {
        const mapped = at - (slice.cut - cut) + (cut === 0 ? MARKER_BYTES : 0);
        at = mapped >= slice.marker + MARKER_BYTES ? mapped : slice.marker;
      }
      cut = slice.cut;
      continue;
    }
    cut = slice.cut;
    await out(slice.data);
    at = slice.offset + slice.data.length;
    if (at < slice.size) continue;
    if (!going || live === null) return;
    await new Promise((r) => setTimeout(r, FOLLOW_EVERY_MS));
    if (Date.now() - asked >= STATE_EVERY_MS) {
      asked = Date.now();
      // Once the run has ended, one more read takes what the worker wrote last.
      going = await live();
    }
  }
}

export function register(program: Command): void {
  program
    .command('log')
    .description("print a run's log (the task's latest run, or --run); --follow a live one")
    .argument('<task>', 'the task id')
    .option('--run <id>', 'one of the task’s runs, as `warden runs TASK` lists them')
    .option('-f, --follow', 'keep printing the live run’s output until the run ends')
    .option(
      '--readable',
      "an agent's JSON events as one line each: what it said, the tools it used, the result",
    )
    .action(
      async (taskText: string, opts: { run?: string; follow?: boolean; readable?: boolean }) => {
        const taskId = parseTaskId(taskText);
        await withContext(async (ctx) => {
          await ctx.store.getTask(taskId);
          const run = pickRun(taskId, await ctx.store.listRuns(taskId), opts.run);
          const path = runLogPath(run);
          const live = async (): Promise<boolean> =>
            (await ctx.store.getRun(run.id)).state !== 'ended';
          const following = opts.follow && run.state !== 'ended' ? live : null;
          if (!opts.readable) return print(path, following);
          const readable = readableOut();
          await print(path, following, readable.out);
          await readable.end();
        }, READING);
      },
    );
}
