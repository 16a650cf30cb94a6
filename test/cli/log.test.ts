/*
 * Issue #15: `warden log TASK [--run ID] [--follow]` prints a run's log, the latest run's or
 * any earlier one's; --follow prints a live run's output as it comes until the run ends, then
 * exits 0, through the shim's cuts without showing anything twice; a pruned log (warden gc),
 * an unknown task or run, and a bad run id are each one line with a documented exit code.
 * The same log through the API: its end, or a range of it.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { WARDEN_BIN, expectError } from '../helpers/cli.js';
import { dbSnapshot } from '../helpers/db.js';
import { TestHome, waitFor, writtenPid } from '../helpers/host.js';

let home: TestHome;
afterEach(async () => {
  await home.cleanup();
});

/** `warden log ARGS` started in the background, its output collected. */
function follow(args: readonly string[]): {
  out: () => string;
  exited: Promise<number | null>;
} {
  const proc = spawn(process.execPath, [WARDEN_BIN, 'log', ...args], {
    env: home.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  proc.stderr.setEncoding('utf8').on('data', (c: string) => (out += c));
  return { out: () => out, exited: new Promise((r) => proc.on('exit', (code) => r(code))) };
}

const logOf = (runId: number): string => join(home.root, 'runs', String(runId), 'output.log');

describe('warden log', () => {
  it('prints the latest run’s log, an earlier run’s with --run, and refuses what is not there', async () => {
    home = await new TestHome().init();
    // Each attempt says which it is, then fails as a configuration error: blocked at once.
    await home.profile('says', [
      'sh',
      '-c',
      'echo "attempt $WARDEN_ATTEMPT"; echo "to stderr" >&2; exit 78',
    ]);
    const id = await home.task('two attempts', ['--assignee', 'says']);
    const none = await home.task('never ran');
    await home.serve();
    await home.waitStatus(id, 'blocked');
    await home.ok(['retry', String(id)]);
    await waitFor('a second run, ended', async () => {
      const runs = await home.runs(id);
      return runs.length === 2 && runs.every((r) => r.state === 'ended');
    });
    const [first, second] = (await home.runs(id)).sort((a, b) => a.id - b.id);
    expect(await home.ok(['log', String(id)])).toBe('attempt 2\nto stderr\n');
    expect(await home.ok(['log', String(id), '--run', String(first?.id)])).toBe(
      'attempt 1\nto stderr\n',
    );
    expect(await home.ok(['log', String(id), '--follow'])).toBe('attempt 2\nto stderr\n');

    const db = join(home.root, 'warden.db');
    const before = dbSnapshot(db);
    expectError(
      await home.cli(['log', '999']),
      3,
      /task 999 (was not found|not found|does not exist)/,
    );
    expectError(await home.cli(['log', String(none)]), 3, /task \d+ has no runs yet, so no log/);
    expectError(
      await home.cli(['log', String(id), '--run', '999']),
      3,
      new RegExp(`task ${id} has no run 999; its runs are ${first?.id}, ${second?.id}`),
    );
    expectError(
      await home.cli(['log', String(id), '--run', 'last']),
      2,
      /--run: 'last' is not a run id/,
    );
    expectError(await home.cli(['log', 'x']), 2, /'x' is not a task id/);
    expect(dbSnapshot(db)).toEqual(before);
  });

  it('says in one line, exit 3, that warden gc removed a run’s log', async () => {
    home = await new TestHome().init();
    await home.profile('says', ['sh', '-c', 'echo done here']);
    const id = await home.task('short', ['--assignee', 'says']);
    await home.serve();
    await home.waitStatus(id, 'done');
    expect(await home.ok(['log', String(id)])).toBe('done here\n');
    await home.ok(['gc', '--older-than', '1ms']);
    const [run] = await home.runs(id);
    expectError(
      await home.cli(['log', String(id)]),
      3,
      new RegExp(`run ${run?.id}'s log is gone: .*output\\.log was removed \\(warden gc removes`),
    );
  });

  it('--follow prints a live run’s output as it comes, and exits 0 when the run ends', async () => {
    home = await new TestHome().init();
    const go = join(home.root, 'go');
    const script = `echo one; while [ ! -e '${go}' ]; do sleep 0.05; done; echo two; sleep 0.3; echo three`;
    await home.profile('slow', ['sh', '-c', script]);
    const id = await home.task('slow', ['--assignee', 'slow']);
    await home.serve();
    await home.waitStatus(id, 'running');
    const f = follow([String(id), '--follow']);
    await waitFor('the first line', () => f.out() === 'one\n');
    writeFileSync(go, '');
    expect(await f.exited).toBe(0);
    expect(f.out()).toBe('one\ntwo\nthree\n');
  });

  it('--follow goes through the shim’s cuts: in order, nothing twice, the cut marked', async () => {
    home = await new TestHome().init();
    // 64 KiB cap; numbered lines, in bursts, so the log is cut many times while followed.
    const script =
      'i=0; while [ $i -lt 40 ]; do seq $((i * 2000 + 1)) $((i * 2000 + 2000)); i=$((i + 1)); sleep 0.05; done; echo end';
    await home.profile('burst', ['sh', '-c', script], ['--log-cap', '64KiB']);
    const id = await home.task('bursts', ['--assignee', 'burst']);
    await home.serve();
    await home.waitStatus(id, 'running');
    const f = follow([String(id), '--follow']);
    expect(await f.exited).toBe(0);
    const lines = f.out().split('\n');
    expect(lines.at(-2)).toBe('end');
    // The start is kept to the byte, so the line before the marker is the start of one.
    const numbers = lines
      .filter((l, i) => /^\d+$/.test(l) && !lines[i + 1]?.startsWith('[warden: log truncated'))
      .map(Number);
    // Strictly increasing: nothing shown twice; the start is whole.
    expect(numbers.every((n, i) => i === 0 || n > (numbers[i - 1] ?? 0))).toBe(true);
    expect(numbers.slice(0, 100)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(numbers.at(-1)).toBe(80_000);
    expect(f.out()).toMatch(/\[warden: log truncated: \d+ bytes cut here \(log_cap 64\.0 KiB\)/);
    // What the follower missed is only what was cut before it read it.
    const [run] = await home.runs(id);
    expect(f.out().endsWith(readFileSync(logOf(run?.id ?? 0), 'utf8').slice(-4096))).toBe(true);
  });
});

describe('GET /api/v1/runs/{id}/log', () => {
  it('gives the end, or a range with offset and bytes, and 404 once the log is gone', async () => {
    home = await new TestHome().init();
    await home.profile('says', ['sh', '-c', 'seq 1 20000']);
    const id = await home.task('numbers', ['--assignee', 'says']);
    const serve = await home.serve();
    await home.waitStatus(id, 'done');
    const [run] = await home.runs(id);
    const text = readFileSync(logOf(run?.id ?? 0), 'utf8');
    const token = readFileSync(join(home.root, 'admin.token'), 'utf8').trim();
    const get = async (
      query: string,
    ): Promise<{ status: number; body: Record<string, unknown> }> => {
      const res = await fetch(`${serve.url}/api/v1/runs/${run?.id}/log${query}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const end = await get('?bytes=100');
    expect(end.body).toMatchObject({ log: text.slice(-100), size: text.length, cut: 0 });
    expect(end.body.offset).toBe(text.length - 100);
    const range = await get('?offset=10&bytes=20');
    expect(range.body).toMatchObject({ log: text.slice(10, 30), offset: 10, length: 20 });
    const past = await get(`?offset=${text.length + 5}`);
    expect(past.body).toMatchObject({ log: '', offset: text.length, length: 0 });
    expect((await get('?offset=-1')).status).toBe(400);
    await home.ok(['gc', '--older-than', '1ms']);
    const gone = await get('');
    expect(gone.status).toBe(404);
    expect(JSON.stringify(gone.body)).toMatch(/log is gone: .* was removed \(warden gc/);
  });

  it('answers at once while the shim is cutting, saying so, and not for a reader that was killed', async () => {
    home = await new TestHome().init();
    await home.profile('waits', ['sh', '-c', 'echo started; while :; do sleep 0.05; done']);
    const id = await home.task('waits', ['--assignee', 'waits']);
    const serve = await home.serve();
    await home.waitStatus(id, 'running');
    const [run] = await home.runs(id);
    const dir = join(home.root, 'runs', String(run?.id));
    const log = logOf(run?.id ?? 0);
    await waitFor('the worker’s output', () => existsSync(log) && readFileSync(log, 'utf8') !== '');
    const token = readFileSync(join(home.root, 'admin.token'), 'utf8').trim();
    const get = async (): Promise<Record<string, unknown>> =>
      (await (
        await fetch(`${serve.url}/api/v1/runs/${run?.id}/log`, {
          headers: { authorization: `Bearer ${token}` },
        })
      ).json()) as Record<string, unknown>;
    expect(await get()).toMatchObject({ log: 'started\n', cut: 0, cutting: false });
    // The counter odd, naming a live process of the run's group as the shim's reader: a cut
    // under way, which the route does not wait for.
    const worker = await waitFor('the worker pid', () => writtenPid(join(dir, 'worker.pid')));
    writeFileSync(join(dir, 'log-seq'), `000000000001 ${worker}\n`);
    expect(await get()).toMatchObject({ log: 'started\n', cutting: true });
    // A reader that is gone never finishes its cut: the log is as it will stay.
    writeFileSync(join(dir, 'log-seq'), `000000000001 999999999\n`);
    expect(await get()).toMatchObject({ log: 'started\n', cutting: false });
    expect(await home.ok(['log', String(id)])).toBe('started\n');
    await home.ok(['stop', String(id)]);
  });

  it("--readable shows an agent's JSON events as what they say", async () => {
    home = await new TestHome().init();
    const stream = fileURLToPath(new URL('../fixtures/claude-stream.jsonl', import.meta.url));
    await home.profile('agent', ['sh', '-c', `cat '${stream}'; exit 78`]);
    const id = await home.task('an agent run', ['--assignee', 'agent']);
    await home.serve();
    await home.waitStatus(id, 'blocked');
    const r = await home.cli(['log', String(id), '--readable']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n')).toEqual(
      expect.arrayContaining([
        'tool Bash: git add NOTES.md && git commit -q -m "Add NOTES.md"',
        'result: Done: NOTES.md is committed. (5 turns, USD 0.44)',
      ]),
    );
    expect(r.stdout).not.toContain('"session_id"');
    // Without it, the log as it was written.
    expect((await home.cli(['log', String(id)])).stdout).toContain('"session_id"');
  });
});
