/*
 * Issue #11, defect 6, as found: a worker that prints 300 MiB. With `--log-cap 1MiB` the run's
 * log never keeps more than the cap, holds the worker's first output and its last, says where
 * and exactly how much was cut, and the run's history has a `log_truncated` event. Issue #15:
 * the shim keeps the cap, so it holds while `serve` is down, and with the real default cap.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TestHome, waitFor } from '../helpers/host.js';

let home: TestHome;
afterEach(async () => {
  await home.cleanup();
});

const PRINTED = 300 * 1024 * 1024; // 300 MiB
const LINE = 'a line the worker prints again and again';
// Each test waits up to 180 s for the printer; the test itself gets a minute more than that.
const PRINTER_TIMEOUT = 240_000;

/** The printer: a first line, PRINTED bytes of LINE, a last line; after GO exists if given. */
function printer(go?: string): string[] {
  const wait = go ? `while [ ! -e '${go}' ]; do sleep 0.05; done; ` : '';
  return [
    'sh',
    '-c',
    `echo FIRST LINE; ${wait}yes '${LINE}' | head -c ${PRINTED}; echo; echo LAST LINE`,
  ];
}

/** Checks the log of a 300 MiB printer's run against `cap`: bounded, both ends, one exact marker. */
function checkLog(log: string, cap: number, capText: string): void {
  const size = statSync(log).size;
  expect(size).toBeLessThanOrEqual(cap);
  const text = readFileSync(log, 'utf8');
  expect(text.startsWith(`FIRST LINE\n${LINE}\n`)).toBe(true);
  expect(text.endsWith(`\nLAST LINE\n`)).toBe(true);
  const marks = [
    ...text.matchAll(
      new RegExp(
        `\\n\\[warden: log truncated: (\\d+) bytes cut here \\(log_cap ${capText.replace('.', '\\.')}\\); the start and the latest output are kept\\] *\\n`,
        'g',
      ),
    ),
  ];
  expect(marks).toHaveLength(1);
  expect(marks[0]?.index).toBe(cap / 4);
  // The shim is the log's only writer: everything printed is kept or counted as cut.
  const printed = 'FIRST LINE\n'.length + PRINTED + '\nLAST LINE\n'.length;
  expect(Number(marks[0]?.[1]) + size - (marks[0]?.[0].length ?? 0)).toBe(printed);
}

describe('a run log past its log_cap', { timeout: PRINTER_TIMEOUT }, () => {
  it('the 300 MiB printer leaves a log of at most the cap, with its start, its end and the cut said', async () => {
    home = await new TestHome().init();
    await home.profile('printer', printer(), ['--log-cap', '1MiB']);
    const id = await home.task('print a lot', ['--assignee', 'printer']);
    await home.serve();
    await home.waitStatus(id, 'done', 180_000);
    const [run] = await home.runs(id);
    checkLog(join(home.root, 'runs', String(run?.id), 'output.log'), 1024 * 1024, '1.0 MiB');
    const event = await home.waitEvent('log_truncated', id);
    expect(event.run_id).toBe(run?.id);
    expect(event.payload).toMatchObject({ log_cap: 1024 * 1024 });
  });

  it('holds the cap while serve is down: the printer prints all 300 MiB with no serve', async () => {
    home = await new TestHome().init();
    const go = join(home.root, 'go');
    await home.profile('printer', printer(go), ['--log-cap', '1MiB']);
    const id = await home.task('print a lot', ['--assignee', 'printer']);
    const first = await home.serve();
    const [run] = await waitFor('the run', async () => {
      const runs = await home.runs(id);
      return runs[0]?.process ? runs : undefined;
    });
    const dir = join(home.root, 'runs', String(run?.id));
    const log = join(dir, 'output.log');
    await waitFor('the first line', () => existsSync(log) && statSync(log).size > 0);
    first.proc.kill('SIGKILL');
    await first.exited;
    // No serve anywhere: the worker prints everything and exits, the shim records its status.
    writeFileSync(go, '');
    await waitFor('the worker to exit', () => existsSync(join(dir, 'exit')), 180_000);
    checkLog(log, 1024 * 1024, '1.0 MiB');
    // The next serve books the run and records the cut the shim made meanwhile.
    await home.serve();
    await home.waitStatus(id, 'done', 60_000);
    const event = await home.waitEvent('log_truncated', id);
    expect(event.payload).toMatchObject({ log_cap: 1024 * 1024 });
    const cuts = (await home.events(id)).filter((e) => e.kind === 'log_truncated');
    expect(cuts).toHaveLength(1);
  });

  it('the real default cap (100 MiB) holds against the 300 MiB printer', async () => {
    home = await new TestHome().init();
    await home.profile('printer', printer());
    const id = await home.task('print a lot', ['--assignee', 'printer']);
    await home.serve();
    await home.waitStatus(id, 'done', 180_000);
    const [run] = await home.runs(id);
    checkLog(
      join(home.root, 'runs', String(run?.id), 'output.log'),
      100 * 1024 * 1024,
      '100.0 MiB',
    );
    await home.waitEvent('log_truncated', id);
  });
});
