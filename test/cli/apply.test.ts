import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ApplyResult } from '../../src/core/apply.js';
import type { Task } from '../../src/core/task.js';
import { expectError, freshHome } from '../helpers/cli.js';
import type { Cli } from '../helpers/cli.js';

const GRAPH_YAML = `# a release, as a graph
name: release-42
tasks:
  - name: design
    title: Design the API
    body: |
      Write the routes down first.
    assignee: p
    priority: 5
  - name: build
    title: Build it
    after: [design]
    assignee: p
  - name: docs
    title: Document it
    after: [design]
    key: docs-for-release-42
    policy:
      max_failures: 5
      stall_timeout: 10m
  - name: ship
    title: Ship it
    after: [build, docs]
`;

function write(cli: Cli, name: string, text: string): string {
  const path = join(cli.home, name);
  writeFileSync(path, text);
  return path;
}

async function withProfile(ctx: Parameters<typeof freshHome>[0]): Promise<Cli> {
  const cli = await freshHome(ctx);
  const r = await cli.run(['profile', 'add', 'p', '--', 'true']);
  expect(r.code, r.stderr).toBe(0);
  return cli;
}

describe.concurrent('warden apply', () => {
  it('creates the whole graph once: applying it again creates nothing new', async (ctx) => {
    const cli = await withProfile(ctx);
    const file = write(cli, 'release.yaml', GRAPH_YAML);
    const first = await cli.json<ApplyResult>(['apply', file]);
    expect(first).toMatchObject({ board: 'default', graph: 'release-42', created: 4, existing: 0 });
    expect(first.tasks.map((t) => [t.name, t.result, t.status])).toEqual([
      ['design', 'created', 'ready'],
      ['build', 'created', 'todo'],
      ['docs', 'created', 'todo'],
      ['ship', 'created', 'todo'],
    ]);
    const ids = Object.fromEntries(first.tasks.map((t) => [t.name, t.id ?? 0]));
    const ship = await cli.json<Task>(['show', String(ids.ship)]);
    expect(ship.parents).toEqual([ids.build, ids.docs]);
    const docs = await cli.json<Task>(['show', String(ids.docs)]);
    expect(docs).toMatchObject({
      idempotency_key: 'docs-for-release-42',
      policy: { max_failures: 5, stall_timeout: 600_000 },
    });

    const before = cli.dbSnapshot();
    const again = await cli.run(['apply', file]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(
      /^applied graph release-42 to board default: 0 created, 4 already there\n/,
    );
    expect(again.stdout).toMatch(
      new RegExp(`design +${ids.design} +already there +ready +Design the API`),
    );
    expect(cli.dbSnapshot()).toEqual(before);
  });

  it('reads JSON as well, and a graph with no name is named by its content', async (ctx) => {
    const cli = await withProfile(ctx);
    const graph = {
      tasks: [
        { name: 'a', title: 'A' },
        { name: 'b', title: 'B', after: ['a'] },
      ],
    };
    const file = write(cli, 'graph.json', JSON.stringify(graph));
    const first = await cli.json<ApplyResult>(['apply', file]);
    expect(first.graph).toMatch(/^sha-[0-9a-f]{16}$/);
    expect(first.tasks[1]?.key).toBe(`apply:${first.graph}/b`);
    // The same graph in YAML, with no extension: the same content, so the same tasks.
    const yaml = write(
      cli,
      'graph',
      'tasks:\n  - {name: a, title: A}\n  - {name: b, title: B, after: [a]}\n',
    );
    expect(await cli.json<ApplyResult>(['apply', yaml])).toMatchObject({ created: 0, existing: 2 });
  });

  it('--dry-run says what it would create and changes nothing', async (ctx) => {
    const cli = await withProfile(ctx);
    const file = write(cli, 'release.yml', GRAPH_YAML);
    const before = cli.dbSnapshot();
    const r = await cli.run(['apply', file, '--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /^dry run of graph release-42 on board default: would create 4, 0 already there; nothing changed\n/,
    );
    expect(r.stdout).toMatch(/ship +- +would create +todo +Ship it/);
    const json = await cli.json<ApplyResult>(['apply', file, '--dry-run']);
    expect(json).toMatchObject({ dry_run: true, created: 4 });
    expect(cli.dbSnapshot()).toEqual(before);
  });

  const REFUSED: [string, string, number, RegExp][] = [
    [
      'a cycle',
      'tasks:\n  - {name: a, title: A, after: [c]}\n  - {name: b, title: B, after: [a]}\n  - {name: c, title: C, after: [b]}\n',
      2,
      /^warden: the tasks make a cycle: a after c after b after a; a task cannot wait for itself\n$/,
    ],
    [
      'an unknown profile',
      'tasks:\n  - {name: a, title: A, assignee: p}\n  - {name: b, title: B, assignee: nobody}\n',
      2,
      /^warden: task 'b': profile 'nobody' does not exist; see `warden profile list`\n$/,
    ],
    [
      'a duplicate local name',
      'tasks:\n  - {name: a, title: A}\n  - {name: b, title: B}\n  - {name: a, title: C}\n',
      2,
      /^warden: task name 'a' is used twice \(tasks\[0\] and tasks\[2\]\); local names must be unique\n$/,
    ],
    [
      'an unknown dependency',
      'tasks:\n  - {name: a, title: A}\n  - {name: b, title: B, after: [aa]}\n',
      2,
      /^warden: task 'b' is after 'aa', which is not a task of this file\n$/,
    ],
    [
      'a key over the size limit',
      `tasks:\n  - {name: a, title: A}\n  - {name: b, title: B, key: ${'k'.repeat(201)}}\n`,
      2,
      /^warden: task 'b': key is 201 characters; an idempotency key may be at most 200\n$/,
    ],
    [
      'a task that cannot be created, late in the order',
      `tasks:\n  - {name: a, title: A}\n  - {name: b, title: '${'x'.repeat(201)}', after: [a]}\n`,
      2,
      /^warden: task 'b': title: must be at most 200 characters\n$/,
    ],
    [
      'an unknown field',
      'tasks:\n  - {name: a, title: A, depends_on: [b]}\n',
      2,
      /^warden: task 'a': unknown field 'depends_on'; use name, title, body, assignee, priority, after, key, policy, triage\n$/,
    ],
    [
      'a YAML syntax error',
      'tasks:\n  - name: a\n    after: [x\n',
      2,
      /^warden: .*: not valid YAML: .* at line 4, column 1\n$/,
    ],
    [
      'an unknown board',
      'board: nope\ntasks:\n  - {name: a, title: A}\n',
      3,
      /^warden: board 'nope' does not exist/,
    ],
  ];

  it.for(REFUSED)(
    'refuses the whole file for %s with one line, and creates nothing',
    async ([, text, code, message], ctx) => {
      const cli = await withProfile(ctx);
      // Something there already, so "nothing created" is not just an empty board.
      await cli.json(['apply', write(cli, 'ok.yaml', 'tasks:\n  - {name: a, title: A}\n')]);
      const file = write(cli, 'bad.yaml', text);
      const before = cli.dbSnapshot();
      expectError(await cli.run(['apply', file]), code, message);
      expectError(await cli.run(['apply', file, '--dry-run']), code, message);
      expect(cli.dbSnapshot()).toEqual(before);
    },
  );

  it('refuses a missing file and a file that is not a graph', async (ctx) => {
    const cli = await freshHome(ctx);
    expectError(
      await cli.run(['apply', join(cli.home, 'nope.yaml')]),
      2,
      /nope\.yaml: no such file$/m,
    );
    const list = write(cli, 'list.json', '[1, 2]');
    expectError(
      await cli.run(['apply', list]),
      2,
      /^warden: the graph must be an object with a list of tasks\n$/,
    );
    const empty = write(cli, 'empty.yaml', 'tasks: []\n');
    expectError(
      await cli.run(['apply', empty]),
      2,
      /^warden: tasks: the graph must have a list of at least one task\n$/,
    );
  });
});
