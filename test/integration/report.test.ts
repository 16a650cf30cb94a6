/**
 * The morning report (`warden report`, `GET /api/v1/report`) after real workers under `serve`:
 * one commits in a git worktree and is done, one fails for good; the report names the branch,
 * what is on it, why the other stopped, and what waits for a person.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Report } from '../../src/core/report.js';
import { makeRepo } from '../helpers/git.js';
import { TestHome } from '../helpers/host.js';
import { workedHome } from '../helpers/report-home.js';

let home: TestHome;
let repo: string;
afterEach(async () => {
  await home.cleanup();
  rmSync(repo, { recursive: true, force: true });
});

function auth(h: TestHome): Record<string, string> {
  const token = readFileSync(join(h.root, 'admin.token'), 'utf8').trim();
  return { authorization: `Bearer ${token}` };
}

describe('the morning report', () => {
  it('says what was done on which branch, what failed and why, and what waits, through the CLI and the API', async () => {
    home = await new TestHome().init();
    repo = makeRepo();
    await home.task('not started', ['--needs-approval']);
    const { done, failed, serve } = await workedHome(home, repo);

    const text = await home.ok(['report', '--since', '1h']);
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^2 tasks of board default worked since \d{4}-\d\d-\d\dT[\d:.]+Z \(1h ago\): done 1, blocked 1$/,
    );
    expect(lines[1]).toMatch(/^ID +STATUS +ASSIGNEE +TITLE +BRANCH +WORK +RUNS +COST +NOTE$/);
    expect(lines[2]).toMatch(
      new RegExp(
        `^${done} +done +coder +add the feature +warden/${done} +1 commit, 1 file \\+1 -0 +1 +- +`,
      ),
    );
    expect(lines[3]).toMatch(
      new RegExp(
        `^${failed} +blocked +crasher +flaky build +- +- +1 +- +blocked \\(failed\\): gave_up`,
      ),
    );
    expect(lines.slice(4)).toEqual([
      'no model requests went through the proxy in that time',
      // The failed task and the one behind its approval gate.
      '2 things wait for a person: warden inbox',
    ]);

    const json = JSON.parse(await home.ok(['report', '--since', '1h', '--json'])) as Report;
    expect(json).toMatchObject({ board: 'default', total: 2, counts: { done: 1, blocked: 1 } });
    expect(json.tasks[0]).toMatchObject({
      id: done,
      branch: `warden/${done}`,
      commits: 1,
      diffstat: { files: 1, insertions: 1, deletions: 0 },
      uncommitted: false,
      runs: 1,
    });

    const api = await fetch(`${serve.url}/api/v1/report?since=1h`, { headers: auth(home) });
    expect(api.status).toBe(200);
    const fromApi = (await api.json()) as Report;
    expect(fromApi.tasks).toEqual(
      json.tasks.map((t) => ({ ...t, note: expect.any(String) as string })),
    );
    const bad = await fetch(`${serve.url}/api/v1/report?since=soon`, { headers: auth(home) });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({
      error: {
        code: 'invalid',
        message: expect.stringMatching(/^since: 'soon' is neither/) as string,
      },
    });
    expect(
      (await fetch(`${serve.url}/api/v1/report?board=nope`, { headers: auth(home) })).status,
    ).toBe(404);
    expect((await fetch(`${serve.url}/api/v1/report`)).status).toBe(401);

    // A window after the work: nothing worked, but what waits is still said.
    const after = new Date().toISOString();
    const quiet = await home.cli(['report', '--since', after]);
    expect(quiet).toMatchObject({ code: 0, stderr: '' });
    expect(quiet.stdout).toMatch(
      new RegExp(
        `^no task of board default was worked since ${after.replace(/\./g, '\\.')} \\([\\dms]+ ago\\)\n2 things wait for a person: warden inbox\n$`,
      ),
    );

    // Bad input: one line, the documented exit code.
    const since = await home.cli(['report', '--since', 'soon']);
    expect(since).toMatchObject({ code: 2, stdout: '' });
    expect(since.stderr).toBe(
      "warden: --since: 'soon' is neither a time nor a duration; use ISO 8601 like 2026-05-01T09:00:00Z, or how far back, like 10m or 2h\n",
    );
    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect(await home.cli(['report', '--since', future])).toEqual({
      code: 2,
      stdout: '',
      stderr: `warden: --since: '${future}' is in the future; give a time before now\n`,
    });
    const limit = await home.cli(['report', '--limit', '0']);
    expect(limit).toMatchObject({
      code: 2,
      stderr: 'warden: --limit: must be from 1 to 10000, got 0\n',
    });
    const cut = await home.cli(['report', '--limit', '1']);
    expect(cut.code).toBe(0);
    expect(cut.stderr).toBe('1 of 2 shown; --limit to see more\n');
  }, 90_000);
});
