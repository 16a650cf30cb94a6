/*
 * `serve`'s own log (issue #15): pretty lines for a person on a terminal, JSON lines anywhere
 * else, one line per change, `--log-level`. The formatter and the terminal decision are tested
 * directly; then a real serve under a real pseudo-terminal (`script` from util-linux) and a
 * real serve on a pipe.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { parseLogLevel, prettyLine, prettyLog, serveLogger } from '../../src/serve/log.js';
import { WARDEN_BIN } from '../helpers/cli.js';
import { TestHome, fixture, waitFor } from '../helpers/host.js';

let home: TestHome | undefined;
afterEach(async () => {
  await home?.cleanup();
  home = undefined;
});

const ESC = '\u001b[';
/** The level name of an info line, green, as a terminal shows it. */
const GREEN_INFO = `${ESC}32mINFO ${ESC}0m`;
const escape = (text: string): string => text.replace(/[[\]\\^$.|?*+()]/g, '\\$&');

describe('the pretty formatter', () => {
  it('writes time, level, message and fields; an error with its stack; other text as it is', () => {
    const at = Date.UTC(2026, 11, 3, 4, 5, 6, 120);
    expect(
      prettyLine(
        JSON.stringify({ level: 30, time: at, host: 'h1', pid: 9, msg: 'started run 7', run: 7 }),
        false,
      ),
    ).toBe('04:05:06.120 INFO  started run 7 run=7\n');
    const err = prettyLine(
      JSON.stringify({
        level: 50,
        time: at,
        msg: 'GET /x answered 500: boom',
        request_id: 'a b',
        err: { message: 'boom', stack: 'Error: boom\n    at f (x.js:1:1)' },
      }),
      false,
    );
    expect(err).toBe(
      '04:05:06.120 ERROR GET /x answered 500: boom request_id="a b"\n    Error: boom\n        at f (x.js:1:1)\n',
    );
    expect(prettyLine('not json', false)).toBe('not json\n');
    expect(prettyLine(JSON.stringify({ level: 40, time: at, msg: 'w' }), true)).toContain(
      `${ESC}33mWARN ${ESC}0m`,
    );
    expect(prettyLine(JSON.stringify({ level: 40, time: at, msg: 'w' }), false)).not.toContain(ESC);
  });

  it('is pretty on a terminal with auto, or when asked; JSON otherwise', () => {
    expect(prettyLog('auto', true)).toBe(true);
    expect(prettyLog('auto', false)).toBe(false);
    expect(prettyLog('pretty', false)).toBe(true);
    expect(prettyLog('json', true)).toBe(false);
  });

  it('writes JSON or pretty lines to its sink at the level asked, and refuses an unknown level', () => {
    const lines: string[] = [];
    const sink = { write: (s: string) => lines.push(s), isTTY: false };
    const json = serveLogger({ level: 'warn', format: 'auto', host: 'h1', sink });
    json.info('not written');
    json.warn('written');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({ level: 40, host: 'h1', msg: 'written' });
    const pretty = serveLogger({ level: 'info', format: 'auto', sink: { ...sink, isTTY: true } });
    pretty.info('hello');
    expect(lines[1]?.slice(12)).toBe(` ${GREEN_INFO} hello\n`);
    expect(lines[1]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} /);
    expect(() => parseLogLevel('loud')).toThrow(
      "--log-level: 'loud' is not one of trace, debug, info, warn, error, fatal, silent",
    );
  });
});

describe('a real serve', () => {
  it('writes JSON lines on a pipe, one per change: a run started and ended, nothing per tick', async () => {
    home = await new TestHome().init();
    await home.profile('quick', fixture('short-job.sh', '0.05'));
    const id = await home.task('one', ['--assignee', 'quick']);
    const serve = await home.serve();
    await home.waitStatus(id, 'done');
    const ended = await waitFor('the ending in the log', () =>
      serve.output().includes('ended completed') ? serve.output() : undefined,
    );
    const json = ended
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { level: number; msg: string });
    const runs = await home.runs(id);
    expect(json.map((l) => l.msg)).toEqual([
      `started run ${runs[0]?.id} (attempt 1) of task ${id}`,
      `run ${runs[0]?.id} of task ${id} ended completed`,
    ]);
    expect(json.every((l) => l.level === 30)).toBe(true);
    // Idle ticks (200ms each here) write nothing.
    const before = serve.output();
    await new Promise((r) => setTimeout(r, 1000));
    expect(serve.output()).toBe(before);
  });

  it.skipIf(!existsSync('/usr/bin/script'))('writes pretty lines under a terminal', async () => {
    home = await new TestHome().init();
    await home.profile('quick', fixture('short-job.sh', '0.05'));
    const id = await home.task('one', ['--assignee', 'quick']);
    const cmd = `${process.execPath} ${WARDEN_BIN} serve --port 0 --tick 200ms`;
    const proc = spawn('script', ['-qfec', cmd, '/dev/null'], {
      env: home.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    let out = '';
    proc.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    try {
      await home.waitStatus(id, 'done');
      await waitFor('the pretty ending', () => out.includes('ended completed'));
      const line = out.split(/\r?\n/).find((l) => l.includes('ended completed')) ?? '';
      expect(line).toMatch(/^\d\d:\d\d:\d\d\.\d{3} /);
      expect(line.slice(12)).toMatch(
        new RegExp(`^ ${escape(GREEN_INFO)} run \\d+ of task \\d+ ended completed`),
      );
      expect(out).not.toContain('{"level"');
    } finally {
      if (proc.pid !== undefined) process.kill(-proc.pid, 'SIGTERM');
      await new Promise((r) => proc.once('exit', r));
    }
  });

  it('refuses an unknown --log-level with one line and exit 2, starting nothing', async () => {
    home = await new TestHome().init();
    const r = await home.cli(['serve', '--port', '0', '--log-level', 'loud']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain("--log-level: 'loud' is not one of");
    expect((await home.events()).map((e) => e.kind)).not.toContain('host_started');
  });
});
