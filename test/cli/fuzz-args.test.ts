/*
 * Property test over the command line (issue #11): random and malformed arguments to the
 * board's commands never crash the CLI or end in "unexpected error"; a refusal is one line
 * on standard error with a documented exit code, and leaves every row of the home's
 * database as it was. The real executable runs against a real SQLite home.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { freshHome } from '../helpers/cli.js';

/** The commands tried: everything that reads or writes the board and returns at once. */
const COMMANDS: readonly (readonly string[])[] = [
  ['create'],
  ['edit'],
  ['list'],
  ['show'],
  ['link'],
  ['comment'],
  ['block'],
  ['unblock'],
  ['retry'],
  ['accept'],
  ['reopen'],
  ['done'],
  ['archive'],
  ['runs'],
  ['events'],
  ['stats'],
  ['report'],
  ['check'],
  ['profile', 'add'],
  ['profile', 'edit'],
  ['profile', 'show'],
  ['profile', 'remove'],
  ['profile', 'pause'],
  ['board', 'add'],
  ['board', 'show'],
  ['board', 'pause'],
  ['group', 'set'],
];

const FLAGS = [
  '--status',
  '--board',
  '--assignee',
  '--priority',
  '--title',
  '--body',
  '--parent',
  '--max-runtime',
  '--stall-timeout',
  '--kill-grace',
  '--backoff-base',
  '--max-failures',
  '--log-cap',
  '--metadata',
  '--reason',
  '--kind',
  '--summary',
  '--limit',
  '--json',
  '--triage',
  '--idempotency-key',
  '--env',
  '--inherit-env',
  '--unset-env',
  '--cwd',
  '--max-concurrency',
  '--clear',
  '--no-check',
  '--unknown-flag',
  '-x',
];

/** Values people mistype and values an attacker tries; NUL cannot be an argument at all. */
const VALUES = [
  '',
  ' ',
  '0',
  '-1',
  '1',
  '2',
  '3',
  '999999999',
  '99999999999999999999',
  '1e309',
  '0.4ms',
  '1s ',
  ' 90s',
  '1h',
  'abc',
  'main',
  'default',
  'nope',
  'p',
  'A=1',
  '=x',
  'WARDEN_ADMIN_TOKEN',
  '*',
  'ready,running',
  'running,bogus',
  'workspace',
  '/tmp',
  '{"a":',
  '{"a":1}',
  '[]',
  '[' + '['.repeat(300) + ']'.repeat(300) + ']',
  'x'.repeat(5000),
  'right\u202eto left',
  'bell\u0007',
  'line\nbreak',
  'é',
  '--',
  '-',
];

const argument = fc.oneof(
  fc.constantFrom(...VALUES),
  fc.string({ maxLength: 12 }).filter((s) => !s.includes('\0')),
);

/** A command, then flags with or without values and positional arguments, in any order. */
const argv = fc
  .tuple(
    fc.constantFrom(...COMMANDS),
    fc.array(
      fc.oneof(
        fc.tuple(fc.constantFrom(...FLAGS), argument).map(([f, v]) => [f, v]),
        fc.constantFrom(...FLAGS).map((f) => [f]),
        argument.map((v) => [v]),
      ),
      { maxLength: 5 },
    ),
  )
  .map(([command, parts]) => [...command, ...parts.flat()]);

describe('random arguments to the CLI (issue #11)', () => {
  it('never crash or say "unexpected error"; a refusal is one line and changes no row', async (ctx) => {
    const cli = await freshHome(ctx);
    // Something to act on: a profile, two tasks with a link and a comment.
    for (const args of [
      ['profile', 'add', 'p', '--no-check', '--', '/bin/true'],
      ['create', 'first', '--assignee', 'p'],
      ['create', 'second', '--parent', '1'],
      ['comment', '1', 'a note'],
    ]) {
      expect((await cli.run(args)).code, args.join(' ')).toBe(0);
    }
    await fc.assert(
      fc.asyncProperty(argv, async (args) => {
        const before = cli.dbSnapshot();
        const r = await cli.run(args);
        const label = JSON.stringify(args);
        expect(r.stderr, label).not.toMatch(/unexpected error/);
        expect([0, 2, 3, 4], `${label}: exit ${r.code}: ${r.stderr}`).toContain(r.code);
        if (r.code !== 0) {
          expect(r.stderr, label).toMatch(/^warden: [^\n]+\n$/);
          expect(cli.dbSnapshot(), label).toEqual(before);
        }
      }),
      { numRuns: 60 },
    );
  }, 240_000);
});
