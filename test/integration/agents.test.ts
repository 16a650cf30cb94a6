/*
 * Agent recipes (issue #12), each run through a real `serve` and a real run against a stand-in
 * of its CLI (test/fixtures/agents/): the stand-in accepts only the agent's documented command
 * line and configuration locations, records what it got, then starts the MCP server it was
 * configured with, giving it the environment that agent gives its servers, and completes the
 * task through it. So each test shows the argv, the env, the prompt and that the MCP
 * configuration names `warden mcp` with this run's token.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { Run } from '../../src/core/run.js';
import { TestHome, waitFor } from '../helpers/host.js';

const BIN = fileURLToPath(new URL('../fixtures/agents/bin', import.meta.url));
const PATH_WITH_AGENTS = `${BIN}:${process.env.PATH ?? ''}`;
const ROOT = process.getuid?.() === 0;

let home: TestHome;
afterEach(async () => {
  await home.cleanup();
});

interface Record {
  agent: string;
  argv: string[];
  cwd: string;
  env: { [name: string]: string };
  mcp: {
    command: string;
    args: string[];
    env: { [name: string]: string };
    env_vars?: string[];
    settings?: { telemetry: { enabled: boolean } };
  } | null;
  prompt: string;
  stdin: string;
  tools?: string[];
}

/** What a run's values are, for the expected argv. */
interface RunValues {
  agentDir: string;
  prompt: string;
  warden: string;
  url: string;
  taskId: number;
}

interface Case {
  kind: string;
  exe: string;
  extra?: string[];
  /** Its `--model` (model-1 when not given; none for `mcp`). */
  model?: string;
  argv: (v: RunValues) => string[];
  env: (v: RunValues) => { [name: string]: string };
}

const CASES: Case[] = [
  {
    kind: 'claude-code',
    exe: 'claude',
    argv: (v) => [
      '-p',
      v.prompt,
      '--output-format',
      'stream-json',
      '--verbose',
      '--dangerously-skip-permissions',
      '--mcp-config',
      `${v.agentDir}/mcp.json`,
      '--strict-mcp-config',
      '--no-session-persistence',
      '--model',
      'model-1',
    ],
    env: (v) => ({
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      DISABLE_TELEMETRY: '1',
      DISABLE_AUTOUPDATER: '1',
      ENABLE_TOOL_SEARCH: 'false',
      TMPDIR: `${v.agentDir}/tmp`,
      ...(ROOT ? { IS_SANDBOX: '1' } : {}),
    }),
  },
  {
    kind: 'codex',
    exe: 'codex',
    argv: (v) => [
      'exec',
      '--json',
      '--skip-git-repo-check',
      '--dangerously-bypass-approvals-and-sandbox',
      '--ephemeral',
      '-c',
      'check_for_update_on_startup=false',
      '-c',
      'analytics.enabled=false',
      '-c',
      'feedback.enabled=false',
      '-c',
      'otel.exporter="none"',
      '-c',
      `mcp_servers.warden.command="${v.warden}"`,
      '-c',
      'mcp_servers.warden.args=["mcp"]',
      '-c',
      `mcp_servers.warden.env={ WARDEN_URL = "${v.url}", WARDEN_TASK_ID = "${v.taskId}", WARDEN_RUN_DIR = "${dirname(v.agentDir)}" }`,
      '-c',
      'mcp_servers.warden.env_vars=["WARDEN_RUN_TOKEN"]',
      '-c',
      'mcp_servers.warden.required=true',
      '--model',
      'model-1',
      v.prompt,
    ],
    env: () => ({}),
  },
  {
    kind: 'gemini',
    exe: 'gemini',
    argv: (v) => [
      '-p',
      v.prompt,
      '--output-format',
      'stream-json',
      '--yolo',
      '--skip-trust',
      '--model',
      'model-1',
    ],
    env: (v) => ({ GEMINI_CLI_HOME: `${v.agentDir}/gemini-home`, TMPDIR: `${v.agentDir}/tmp` }),
  },
  {
    kind: 'opencode',
    exe: 'opencode',
    model: 'local/model-1',
    argv: (v) => ['run', '--format', 'json', '--auto', '--model', 'local/model-1', v.prompt],
    env: () => ({ OPENCODE_DISABLE_AUTOUPDATE: '1' }),
  },
  {
    kind: 'aider',
    exe: 'aider',
    argv: (v) => [
      '--message-file',
      `${v.agentDir}/prompt.md`,
      '--yes-always',
      '--no-pretty',
      '--no-fancy-input',
      '--no-check-update',
      '--no-show-release-notes',
      '--no-analytics',
      '--model',
      'model-1',
    ],
    env: () => ({}),
  },
  {
    kind: 'hermes',
    exe: 'hermes',
    argv: (v) => ['chat', '--oneshot', '--yolo', '--model', 'model-1', '-q', v.prompt],
    env: (v) => ({ HERMES_HOME: `${v.agentDir}/hermes-home` }),
  },
  {
    kind: 'mcp',
    exe: 'my-agent',
    extra: ['my-agent', '--mcp', '{mcp_config}', '--task', '{prompt}'],
    argv: (v) => ['--mcp', `${v.agentDir}/mcp.json`, '--task', v.prompt],
    env: () => ({}),
  },
];

/** A home with the stand-ins on PATH, an agent profile, a task, and `serve`. */
async function start(
  c: Case,
  env: { [name: string]: string } = {},
): Promise<{ id: number; url: string; record: string }> {
  home = await new TestHome().init();
  const record = join(home.root, 'record.json');
  const envOptions = Object.entries({ AGENT_RECORD: record, ...env }).flatMap(([k, v]) => [
    '--env',
    `${k}=${v}`,
  ]);
  const r = await home.cli(
    [
      'profile',
      'add',
      'coder',
      '--agent',
      c.kind,
      ...(c.kind === 'mcp' ? [] : ['--model', c.model ?? 'model-1']),
      ...envOptions,
      '--',
      ...(c.extra ?? []),
    ],
    { PATH: PATH_WITH_AGENTS },
  );
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const id = await home.task('Fix the parser', [
    '--assignee',
    'coder',
    '--body',
    'The lexer drops the last token.',
  ]);
  const serve = await home.serve([], { PATH: PATH_WITH_AGENTS });
  return { id, url: serve.url, record };
}

async function endedRun(id: number): Promise<Run> {
  return waitFor(
    `a run of task ${id} to end`,
    async () => (await home.runs(id)).find((r) => r.state === 'ended'),
    60_000,
  );
}

describe('agent recipes run through serve against stand-ins of their CLIs', () => {
  for (const c of CASES) {
    it(`${c.kind}: the documented argv, env, prompt and an MCP configuration naming warden mcp with the run's token`, async () => {
      const { id, url, record } = await start(c);
      const task = await home.waitStatus(id, 'done', 60_000).catch(async (err: unknown) => {
        // Say what the agent printed: the stand-in names what it refused.
        const tails = (await home.runs(id)).map((r) => r.log_tail ?? r.reason?.message);
        throw new Error(`${String(err)}; the runs' output: ${JSON.stringify(tails)}`);
      });
      const [run] = await home.runs(id);
      if (run === undefined) throw new Error('no run');
      const got = JSON.parse(readFileSync(record, 'utf8')) as Record;
      const agentDir = join(home.root, 'runs', String(run.id), 'agent');
      const warden = join(home.root, 'bin', 'warden');
      expect(got.prompt).toContain(`Work task ${id}`);
      expect(got.prompt).toContain('# Fix the parser');
      expect(got.prompt).toContain('The lexer drops the last token.');
      expect(got.prompt).toContain('warden_complete');
      expect(got.argv).toEqual(c.argv({ agentDir, prompt: got.prompt, warden, url, taskId: id }));
      expect(got.env).toMatchObject(
        c.env({ agentDir, prompt: got.prompt, warden, url, taskId: id }),
      );
      expect(got.stdin).toBe('/dev/null');
      expect(got.env.WARDEN_RUN_TOKEN).toMatch(/^wrun_/);
      if (c.kind === 'aider') {
        // No MCP client: exit 0 completes with the log's tail (exit_zero complete).
        expect(got.mcp).toBeNull();
        expect(task.result?.summary).toContain('aider did it');
        return;
      }
      expect(got.mcp?.command).toBe(warden);
      expect(got.mcp?.args).toEqual(['mcp']);
      if (c.kind === 'codex') {
        // The token is forwarded by name (not on the command line), with the rest literal.
        expect(got.mcp?.env).toEqual({
          WARDEN_URL: url,
          WARDEN_TASK_ID: String(id),
          WARDEN_RUN_DIR: dirname(agentDir),
        });
        expect(got.mcp?.env_vars).toEqual(['WARDEN_RUN_TOKEN']);
      } else {
        expect(got.mcp?.env).toEqual({
          WARDEN_URL: url,
          WARDEN_TASK_ID: String(id),
          WARDEN_RUN_TOKEN: got.env.WARDEN_RUN_TOKEN,
          WARDEN_RUN_DIR: dirname(agentDir),
        });
      }
      if (c.kind === 'gemini') expect(got.mcp?.settings?.telemetry.enabled).toBe(false);
      // The server the agent started serves this run's worker tools, and nothing else.
      expect(got.tools).toContain('warden_complete');
      expect(got.tools).not.toContain('warden_create_task');
      expect(task.result?.summary).toBe(`${got.agent} did it`);
      expect(run.progress_count).toBeGreaterThanOrEqual(1);
    }, 120_000);
  }
});

describe("exit mapping: an agent's rate limit and configuration error", () => {
  const claude = CASES[0] as Case;

  it('claude-code: the 429 line and exit 1 end the run rate_limited, with the line in the reason', async () => {
    const { id } = await start(claude, { STANDIN_MODE: 'rate-limit' });
    const run = await endedRun(id);
    expect(run.outcome).toBe('rate_limited');
    expect(run.exit_code).toBe(75);
    expect(run.reason?.last_output).toMatch(
      /^warden agent-run: Claude Code was rate limited \(exit 1 → 75\): .*API Error: Request rejected \(429\)/,
    );
    const task = await home.getTask(id);
    expect(['ready', 'todo']).toContain(task.status);
    expect(task.counters.failures).toBe(0);
  });

  it('claude-code: an invalid key blocks the task at once (78), quoting the line', async () => {
    const { id } = await start(claude, { STANDIN_MODE: 'config' });
    const task = await home.waitStatus(id, 'blocked', 60_000);
    const [run] = await home.runs(id);
    expect(run?.outcome).toBe('config_error');
    // Its message, not a window of its JSON line's fields.
    expect(run?.reason?.last_output).toBe(
      'warden agent-run: Claude Code has a configuration error (exit 1 → 78): Invalid API key · Fix external API key',
    );
    expect(task.block_reason).toContain('Invalid API key');
  });

  it("claude-code: another failure's reason quotes its last message in words", async () => {
    const { id } = await start(claude, { STANDIN_MODE: 'crash' });
    const run = await endedRun(id);
    expect(run.outcome).toBe('crashed');
    expect(run.exit_code).toBe(1);
    expect(run.reason?.last_output).toBe(
      'warden agent-run: Claude Code exited 1: API Error: Connection error.',
    );
  });

  it('claude-code: exit 0 without warden_complete says the agent never reported, in its words', async () => {
    const { id } = await start(claude, { STANDIN_MODE: 'quit' });
    const run = await endedRun(id);
    expect(run.outcome).toBe('crashed');
    expect(run.exit_code).toBe(0);
    expect(run.reason?.last_output).toBe(
      'warden agent-run: Claude Code exited 0 without calling warden_complete; its last words: All done.',
    );
  });

  it('codex and gemini: exit 0 without warden_complete quotes what the agent said last, in its own event shape', async () => {
    for (const [i, c] of ([CASES[1], CASES[2]] as Case[]).entries()) {
      if (i > 0) await home.cleanup();
      const { id } = await start(c, { STANDIN_MODE: 'quit' });
      const run = await endedRun(id);
      expect(run.reason?.last_output).toMatch(
        / exited 0 without calling warden_complete; its last words: All done\.$/,
      );
    }
  });

  it('gemini: a bad key (its exit 144, an HTTP 400) blocks at once with its message; another status that reads as 128 + a signal is an exit, not a signal', async () => {
    const gemini = CASES[2] as Case;
    const { id } = await start(gemini, { STANDIN_MODE: 'badkey' });
    const task = await home.waitStatus(id, 'blocked', 60_000);
    const [run] = await home.runs(id);
    expect(run?.outcome).toBe('config_error');
    expect(run?.reason?.last_output).toMatch(
      /^warden agent-run: Gemini CLI has a configuration error \(exit 144 → 78\): .*API key not valid/,
    );
    expect(task.block_reason).toContain('API key not valid');
    await home.cleanup();

    // Any other 400 is its exit 144 too, once read as 128 + 16: "killed by SIGSTKFLT" for an
    // agent that exited.
    const server = await start(gemini, { STANDIN_MODE: 'server' });
    const crashed = await endedRun(server.id);
    expect(crashed).toMatchObject({ outcome: 'crashed', exit_code: 1, signal: null });
    expect(crashed.reason?.last_output).toMatch(
      /^warden agent-run: Gemini CLI exited 144: .*Request contains an invalid argument/,
    );
  });

  it('aider: exit 0 after its rate-limit line is still a rate limit', async () => {
    const { id } = await start(CASES[4] as Case, { STANDIN_MODE: 'rate-limit' });
    const run = await endedRun(id);
    expect(run.outcome).toBe('rate_limited');
    expect(run.reason?.last_output).toContain('The API provider has rate limited you');
  });
});

describe('agent profiles: refusals and profile show', () => {
  it('refuses an unknown agent kind, naming the known ones; nothing is created', async () => {
    home = await new TestHome().init();
    const r = await home.cli(['profile', 'add', 'x', '--agent', 'cursor']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(
      "unknown agent 'cursor'; known agents: claude-code, codex, gemini, opencode, aider, hermes, mcp",
    );
    expect((await home.cli(['profile', 'show', 'x'])).code).toBe(3);
  });

  it('refuses an OpenCode model without its provider, saying the form; nothing is created', async () => {
    home = await new TestHome().init();
    const r = await home.cli(
      ['profile', 'add', 'x', '--agent', 'opencode', '--model', 'claude-sonnet-4-5', '--no-check'],
      { PATH: '/usr/bin:/bin' },
    );
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(
      "--agent opencode takes --model in the form PROVIDER/MODEL (anthropic/claude-sonnet-4-5), not 'claude-sonnet-4-5'",
    );
    expect((await home.cli(['profile', 'show', 'x'])).code).toBe(3);
  });

  it('refuses a model given twice, with --model and after --; nothing is created', async () => {
    home = await new TestHome().init();
    for (const extra of [['-m', 'o3'], ['--model=o3']]) {
      const r = await home.cli(
        [
          'profile',
          'add',
          'x',
          '--agent',
          'codex',
          '--model',
          'gpt-5',
          '--no-check',
          '--',
          ...extra,
        ],
        { PATH: '/usr/bin:/bin' },
      );
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(
        `the model is given twice: --model gpt-5 and '${extra[0] ?? ''}' after --; give it once, with --model`,
      );
    }
    expect((await home.cli(['profile', 'show', 'x'])).code).toBe(3);
  });

  it('profile edit --model changes an agent profile’s model, checked as add checks it', async () => {
    home = await new TestHome().init();
    await home.ok([
      'profile',
      'add',
      'oc',
      '--agent',
      'opencode',
      '--no-check',
      '--',
      '--print-logs',
    ]);
    await home.ok(['profile', 'add', 'sh', '--', 'true']);
    const argv = async (name: string) => (await (await home.store()).getProfile(name)).argv;
    const before = await argv('oc');

    const bad = await home.cli(['profile', 'edit', 'oc', '--model', 'sonnet']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--agent opencode takes --model in the form PROVIDER/MODEL');
    const notAgent = await home.cli(['profile', 'edit', 'sh', '--model', 'a/b']);
    expect(notAgent.code).toBe(2);
    expect(notAgent.stderr.trim()).toMatch(
      /--model is for --agent profiles; profile sh runs its own command/,
    );
    expect(await argv('oc')).toEqual(before);

    await home.ok(['profile', 'edit', 'oc', '--model', 'anthropic/claude-sonnet-4-5']);
    expect(await argv('oc')).toEqual([
      'warden',
      'agent-run',
      'opencode',
      '--model',
      'anthropic/claude-sonnet-4-5',
      '--',
      '--print-logs',
    ]);
    await home.ok(['profile', 'edit', 'oc', '--model', 'openai/gpt-5']);
    expect((await argv('oc')).slice(3, 5)).toEqual(['--model', 'openai/gpt-5']);
    // Arguments after -- go to the agent, as on add; the launcher and the model stay.
    await home.ok([
      'profile',
      'edit',
      'oc',
      '--no-check',
      '--',
      '--print-logs',
      '--log-level',
      'DEBUG',
    ]);
    expect(await argv('oc')).toEqual([
      'warden',
      'agent-run',
      'opencode',
      '--model',
      'openai/gpt-5',
      '--',
      '--print-logs',
      '--log-level',
      'DEBUG',
    ]);
    // Both at once; a model given twice (twice --model, or the agent's own -mX) is refused.
    await home.ok(['profile', 'edit', 'oc', '--model', 'a/b', '--no-check', '--', '--print-logs']);
    expect((await argv('oc')).slice(3)).toEqual(['--model', 'a/b', '--', '--print-logs']);
    const twice = await home.cli(['profile', 'edit', 'oc', '--model', 'a/b', '--model', 'c/d']);
    expect(twice.code).toBe(2);
    expect(twice.stderr.trim()).toBe(
      "warden: --model was given twice ('a/b', 'c/d'); give it once",
    );
    const attached = await home.cli(['profile', 'edit', 'oc', '--no-check', '--', '-mc/d']);
    // Unless --no-check, the agent must be installed here, as on add.
    const missing = await home.cli(['profile', 'edit', 'oc', '--', '--print-logs'], {
      PATH: '/usr/bin:/bin',
    });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("OpenCode is not installed: 'opencode' was not found on PATH");
    expect(attached.code).toBe(2);
    expect(attached.stderr).toContain("the model is given twice: --model a/b and '-mc/d' after --");
    expect((await argv('oc')).slice(3)).toEqual(['--model', 'a/b', '--', '--print-logs']);
  });

  it('refuses an agent CLI that is not installed, naming its package, unless --no-check', async () => {
    home = await new TestHome().init();
    const r = await home.cli(['profile', 'add', 'x', '--agent', 'codex'], {
      PATH: '/usr/bin:/bin',
    });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain("'codex' was not found on PATH");
    expect(r.stderr).toContain('npm install -g @openai/codex');
    expect((await home.cli(['profile', 'show', 'x'])).code).toBe(3);
    const ok = await home.cli(['profile', 'add', 'x', '--agent', 'codex', '--no-check'], {
      PATH: '/usr/bin:/bin',
    });
    expect(ok.code).toBe(0);
  });

  it('profile show prints the resolved argv, the env with secrets masked, and the MCP file', async () => {
    home = await new TestHome().init();
    await home.ok([
      'profile',
      'add',
      'c',
      '--agent',
      'claude-code',
      '--model',
      'sonnet',
      '--no-check',
      '--env',
      'ANTHROPIC_API_KEY=sk-very-secret',
      '--env',
      'ANTHROPIC_BASE_URL=http://127.0.0.1:9',
    ]);
    const out = await home.ok(['profile', 'show', 'c']);
    expect(out).toContain('agent:             claude-code (Claude Code)');
    expect(out).toContain(
      `resolved argv:     ["claude","-p","<prompt: warden worker prompt>","--output-format","stream-json","--verbose","--dangerously-skip-permissions","--mcp-config","${home.root}/runs/<run>/agent/mcp.json","--strict-mcp-config","--no-session-persistence","--model","sonnet"]`,
    );
    expect(out).toContain('ANTHROPIC_API_KEY=********');
    expect(out).toContain('ANTHROPIC_BASE_URL=http://127.0.0.1:9');
    expect(out).not.toContain('sk-very-secret');
    expect(out).toContain('DISABLE_TELEMETRY=1');
    expect(out).toContain(`"command": "${home.root}/bin/warden"`);
    expect(out).toContain('"WARDEN_RUN_TOKEN": "<run token>"');
    const json = JSON.parse(await home.ok(['profile', 'show', 'c', '--json'])) as {
      progress_from_workspace: boolean | null;
      policy: { exit_zero?: string };
    };
    // File changes are progress for agents; exit_zero stays auto for one that reports by MCP.
    expect(json.progress_from_workspace).toBe(true);
    expect(json.policy.exit_zero).toBeUndefined();
    // Behind the model proxy, the run's base URL is the proxy's, over the profile's own.
    await home.ok(['profile', 'edit', 'c', '--llm-upstream', 'https://api.anthropic.com']);
    const proxied = await home.ok(['profile', 'show', 'c']);
    expect(proxied).toContain('  ANTHROPIC_BASE_URL=<serve url>/llm/<run token>\n');
    expect(proxied).toContain('  WARDEN_LLM_URL=<serve url>/llm/<run token>\n');
    expect(proxied).not.toContain('ANTHROPIC_BASE_URL=http://127.0.0.1:9');
    // A proxy there already keeps its kind when only its upstream changes (a gateway).
    await home.ok(['profile', 'edit', 'c', '--llm-kind', 'openai']);
    await home.ok(['profile', 'edit', 'c', '--llm-upstream', 'https://gateway.test/v1']);
    const kept = JSON.parse(await home.ok(['profile', 'show', 'c', '--json'])) as {
      llm: { kind: string; upstream: string };
    };
    expect(kept.llm).toMatchObject({ kind: 'openai', upstream: 'https://gateway.test/v1' });
  });
});

describe('warden worker prompt and previous attempts', () => {
  it('a retry sees the last attempt’s exit code and last lines, and comments since, in its context and prompt', async () => {
    home = await new TestHome().init();
    const out = join(home.root, 'out');
    mkdirSync(out);
    const script = [
      // Attempt 1 fails once told to: the comment below is made while it runs, whatever the
      // machine's speed, and so after it started.
      `if [ "$WARDEN_ATTEMPT" = 1 ]; then while [ ! -e ${out}/go ]; do sleep 0.05; done; echo "boom: the compiler said no"; exit 3; fi`,
      `warden worker prompt > ${out}/prompt.txt`,
      `warden worker show --json > ${out}/show.json`,
      'warden worker complete --summary ok',
    ].join('\n');
    await home.profile('w', ['sh', '-c', script], ['--backoff-base', '200ms']);
    const id = await home.task('Build it', ['--assignee', 'w', '--body', 'make all']);
    await home.serve();
    await waitFor('attempt 1 to start', async () => (await home.runs(id)).length > 0);
    await home.ok(['comment', String(id), 'use the other compiler']);
    writeFileSync(join(out, 'go'), '');
    await home.waitStatus(id, 'done', 60_000);
    const show = JSON.parse(readFileSync(join(out, 'show.json'), 'utf8')) as {
      previous_attempts: {
        attempt: number;
        exit_code: number;
        signal: null;
        last_lines: string[];
      }[];
    };
    expect(show.previous_attempts).toHaveLength(1);
    expect(show.previous_attempts[0]).toMatchObject({
      attempt: 1,
      outcome: 'crashed',
      exit_code: 3,
      signal: null,
      last_lines: ['boom: the compiler said no'],
    });
    expect(existsSync(join(out, 'prompt.txt'))).toBe(true);
    const prompt = readFileSync(join(out, 'prompt.txt'), 'utf8');
    expect(prompt).toContain('# Build it');
    expect(prompt).toContain('make all');
    expect(prompt).toMatch(/- attempt 1: crashed \(exit 3\): /);
    expect(prompt).toContain(
      "The last lines of attempt 1's output:\n    boom: the compiler said no",
    );
    expect(prompt).toContain(
      '## Comments since the last attempt started\n\n- person:tester: use the other compiler',
    );
  });
});
