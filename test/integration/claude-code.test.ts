/**
 * A real coding agent on a real repository, end to end (issue #12): the Claude Code CLI from
 * the npm registry (`@anthropic-ai/claude-code`, a devDependency), started by `serve` through
 * the `claude-code` recipe in a git worktree, talking to a local stand-in of the Anthropic
 * Messages API (through warden's model proxy, which gives the agent ANTHROPIC_BASE_URL, its
 * documented setting, and records the tokens of every call) that plays a scripted
 * conversation: the model reports progress and completes through warden's MCP tools, and
 * edits and commits a file with the agent's own tools. No network: telemetry, error reports
 * and update checks are off through the agent's documented variables, set by the recipe.
 *
 * Why Claude Code: of the three CLIs the issue names it is the one whose run can take its
 * MCP servers per run on the command line (`--mcp-config FILE --strict-mcp-config`), whose
 * streaming output (`stream-json`) gives warden a line per step, and whose model API needs one
 * endpoint in a stand-in; its package installs from the registry alone (a native binary in a
 * platform package, linked by its install script).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startAnthropicStandin } from '../helpers/anthropic-standin.js';
import type { Standin } from '../helpers/anthropic-standin.js';
import { TestHome } from '../helpers/host.js';

const require = createRequire(import.meta.url);

/** The agent's executable as its package installs it. */
function claudeBinary(): string {
  const pkg = dirname(require.resolve('@anthropic-ai/claude-code/package.json'));
  return join(pkg, 'bin', 'claude.exe');
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();
}

let home: TestHome | undefined;
let standin: Standin | undefined;

afterEach(async () => {
  await home?.cleanup();
  await standin?.close();
  home = undefined;
  standin = undefined;
});

describe('Claude Code on a repository, against a stand-in model', () => {
  it('works a task to done: progress and the summary through MCP, its commit on the branch, evidence on the run', async () => {
    const h = await new TestHome().init();
    home = h;
    // The agent on PATH under its own name, as a person who installed it has it.
    const bin = join(h.root, 'bin');
    mkdirSync(bin);
    execFileSync('ln', ['-s', claudeBinary(), join(bin, 'claude')]);
    const repo = join(h.root, 'repo');
    mkdirSync(repo);
    git(repo, 'init', '-q', '-b', 'main');
    git(repo, 'config', 'user.email', 'dev@example.com');
    git(repo, 'config', 'user.name', 'Dev');
    writeFileSync(join(repo, 'README.md'), '# demo\n');
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'first');
    const base = git(repo, 'rev-parse', 'HEAD');

    standin = await startAnthropicStandin(
      [
        { kind: 'mcp', tool: 'warden_progress', input: { note: 'read the task' } },
        { kind: 'write', file: 'NOTES.md', content: 'Notes written by the agent.\n' },
        {
          kind: 'tool',
          name: 'Bash',
          input: {
            command: 'git add NOTES.md && git commit -q -m "Add NOTES.md"',
            description: 'Commit the notes',
          },
        },
        {
          kind: 'mcp',
          tool: 'warden_complete',
          input: { summary: 'Wrote NOTES.md and committed it.' },
        },
        { kind: 'text', text: 'Done: NOTES.md is committed.' },
      ],
      'warden',
    );

    const path = `${bin}:${process.env.PATH ?? ''}`;
    await h.ok([
      'profile',
      'add',
      'claude',
      '--agent',
      'claude-code',
      '--model',
      'claude-standin',
      '--workspace',
      `worktree:${repo}`,
      // Its model traffic goes through serve's proxy (issue #13), which sets ANTHROPIC_BASE_URL
      // to the run's own path; the recipe implies --llm-kind anthropic.
      '--llm-upstream',
      standin.url,
      '--env',
      'ANTHROPIC_API_KEY=sk-ant-standin',
      // A failed call fails the run at once rather than after minutes of retries.
      '--env',
      'CLAUDE_CODE_MAX_RETRIES=0',
      // The agent keeps its settings and history under HOME: a throwaway one.
      '--env',
      `HOME=${join(h.root, 'agent-home')}`,
    ]);
    const id = await h.task('write the notes', ['--assignee', 'claude', '--body', 'Add NOTES.md.']);
    await h.serve([], { PATH: path });

    const task = await h.waitStatus(id, 'done', 120_000);
    expect(task.result?.summary).toBe('Wrote NOTES.md and committed it.');
    // Only the model calls reached the stand-in: without the recipe's settings for
    // non-essential traffic the agent also sends HEAD /api/hello to the base URL.
    expect(standin.requests.map((r) => `${r.method} ${r.path}`)).toEqual(
      standin.requests.map(() => 'POST /v1/messages'),
    );
    expect(standin.requests.every((r) => r.apiKey)).toBe(true);
    // The conversation went as scripted, through warden's MCP server and the agent's tools.
    const steps = standin.requests.filter((r) => r.answered === 'main').map((r) => r.step);
    expect(steps).toEqual([
      'mcp__warden__warden_progress',
      'Write',
      'Bash',
      'mcp__warden__warden_complete',
      'text',
    ]);

    // The commit is on the task's branch, not on the repository's own.
    const branch = `warden/${id}`;
    expect(git(repo, 'log', '--format=%s', `${base}..${branch}`)).toBe('Add NOTES.md');
    expect(git(repo, 'rev-parse', 'main')).toBe(base);

    const [run] = await h.runs(id);
    expect(run?.outcome).toBe('completed');
    // The progress note it sent through MCP is the run's last note.
    expect(run?.last_note).toBe('read the task');
    expect(run?.evidence).toMatchObject({
      branch,
      base,
      head: git(repo, 'rev-parse', branch),
      commits: 1,
      commit_list: [{ subject: 'Add NOTES.md' }],
      diffstat: { files: 1, insertions: 1, deletions: 0 },
      rescue: null,
    });
    // The agent's stream-json lines are the run's log, each step as it happened.
    const log = readFileSync(join(h.root, 'runs', String(run?.id), 'output.log'), 'utf8');
    expect(log).toContain('"type":"result"');
    expect(log).toContain('"subtype":"init"');
    // Every model call went through the proxy, and the tokens recorded are the ones the
    // stand-in reported, to the token.
    expect(run?.llm).toMatchObject({
      requests: standin.requests.length,
      tokens: standin.usage(),
      rate_limits: 0,
    });
    expect(task.llm.requests).toBe(standin.requests.length);
    // No copy of the conversation is kept in the agent's home (--no-session-persistence).
    const sessions = join(h.root, 'agent-home', '.claude', 'projects');
    expect(
      existsSync(sessions)
        ? readdirSync(sessions, { recursive: true }).filter((f) => String(f).endsWith('.jsonl'))
        : [],
    ).toEqual([]);
  }, 180_000);
});
