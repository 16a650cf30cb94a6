/*
 * Issue #11, defect 6, as found: a worker that prints 300 MB. With `--log-cap 1MiB` the run's
 * log never keeps more than about the cap, holds the worker's first output and its last, says
 * where and how much was cut, and the run's history has a `log_truncated` event.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TestHome } from '../helpers/host.js';

let home: TestHome;
afterEach(async () => {
  await home.cleanup();
});

const PRINTED = 300_000_000;

describe('a run log past its log_cap', () => {
  it('the 300 MB printer leaves a log of about the cap, with its start, its end and the cut said', async () => {
    home = await new TestHome().init();
    await home.profile(
      'printer',
      [
        'sh',
        '-c',
        `echo FIRST LINE; yes 'a line the worker prints again and again' | head -c ${PRINTED}; echo; echo LAST LINE`,
      ],
      ['--log-cap', '1MiB'],
    );
    const id = await home.task('print a lot', ['--assignee', 'printer']);
    await home.serve();
    await home.waitStatus(id, 'done', 120_000);
    const [run] = await home.runs(id);
    const log = join(home.root, 'runs', String(run?.id), 'output.log');
    const size = statSync(log).size;
    expect(size).toBeLessThanOrEqual(1024 * 1024);
    const text = readFileSync(log, 'utf8');
    expect(text.startsWith('FIRST LINE\n')).toBe(true);
    expect(text.endsWith('LAST LINE\n')).toBe(true);
    const marks = [
      ...text.matchAll(
        /\n\[warden: log truncated: (\d+) bytes cut here \(log_cap 1\.0 MiB\); the start and the latest output are kept\] *\n/g,
      ),
    ];
    expect(marks).toHaveLength(1);
    // Everything printed is kept or counted as cut, but for what the printer wrote in the
    // microseconds between a cut's last look at the size and its truncation (it prints as fast
    // as the disk takes it).
    const printed = 'FIRST LINE\n'.length + PRINTED + '\nLAST LINE\n'.length;
    const accounted = Number(marks[0]?.[1]) + size - (marks[0]?.[0].length ?? 0);
    expect(accounted).toBeLessThanOrEqual(printed);
    expect(accounted).toBeGreaterThan(printed * 0.99);
    const event = await home.waitEvent('log_truncated', id);
    expect(event.run_id).toBe(run?.id);
    expect(event.payload).toMatchObject({ log_cap: 1024 * 1024 });
  });
});
