import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { dirname, join } from 'node:path';
import { WardenError } from '../core/errors.js';
import { EXIT_CONFIG_ERROR } from '../core/exit.js';
import { buildPrompt } from '../core/prompt.js';
import type { WorkerContext } from '../core/worker-protocol.js';
import { findExecutable } from '../config/executable.js';
import { readTail } from '../os/tail.js';
import { statusFromShell } from '../os/exit-status.js';
import { callApi } from '../sdk/http.js';
import { SIGN_LINES, mapAgentExit } from './exit-map.js';
import { finalWord } from './final-word.js';
import { gitIdentityEnv } from './git-identity.js';
import { agentExecutable, checkAgentCommand } from './index.js';
import type { AgentCommand } from './index.js';
import { AgentSetupError, resolveAgent } from './recipe.js';
import type { AgentLaunch, AgentRecipe, McpServerSpec } from './recipe.js';

/**
 * `warden agent-run`: the launcher an agent profile runs under the shim (issue #12). Per run it
 * fetches the worker context and builds the prompt, writes the agent's files (prompt, MCP
 * configuration, per-run homes) into the run's own folder, starts the agent with the run's
 * stdout and stderr, and when the agent exits maps its ending to warden's exit codes: a rate
 * limit 75, a configuration error 78, with the line that said so as the log's last line (a
 * run's reason quotes it).
 */

/** How much of the end of the run's log is read for the agent's last lines. */
const TAIL_BYTES = 64 * 1024;

function need(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new WardenError(
      'setup',
      `${name} is not set; \`warden agent-run\` runs inside a run that warden started (an agent profile's command)`,
    );
  }
  return value;
}

/**
 * `warden mcp` for this run, with its identity given explicitly, and its folder, where a
 * report serve does not answer is kept (sdk/kept-report.ts).
 */
function mcpServer(url: string, token: string, taskId: string, runDir: string): McpServerSpec {
  const env = {
    WARDEN_URL: url,
    WARDEN_TASK_ID: taskId,
    WARDEN_RUN_TOKEN: token,
    WARDEN_RUN_DIR: runDir,
  };
  // serve puts HOME/bin/warden first on a worker's PATH; an absolute path, since some agents
  // start their servers with a PATH of their own.
  const warden = findExecutable('warden');
  if (warden !== null) return { command: warden, args: ['mcp'], env };
  return { command: process.execPath, args: [process.argv[1] ?? 'warden', 'mcp'], env };
}

function say(line: string): void {
  process.stderr.write(`warden agent-run: ${line}\n`);
}

/** Runs the agent of `cmd` for the current run; resolves with the status to exit with. */
export async function runAgent(cmd: AgentCommand): Promise<number> {
  let recipe: AgentRecipe;
  try {
    recipe = checkAgentCommand(cmd);
  } catch (err) {
    // A profile stored before its agent's check: a configuration error, not a crash.
    say((err as Error).message);
    return EXIT_CONFIG_ERROR;
  }
  const url = need('WARDEN_URL');
  const token = need('WARDEN_RUN_TOKEN');
  const taskId = need('WARDEN_TASK_ID');
  const runDir = need('WARDEN_RUN_DIR');
  const executable = agentExecutable(recipe, cmd);
  if (executable === null || findExecutable(executable) === null) {
    say(
      `${executable ?? 'the agent'} was not found on the worker's PATH; ${recipe.install}, or give the profile a PATH that has it`,
    );
    return EXIT_CONFIG_ERROR;
  }
  const context = await callApi<WorkerContext>(url, token, 'GET', '/api/v1/worker/context');
  const prompt = buildPrompt(context);
  const agentDir = join(runDir, 'agent');
  mkdirSync(join(agentDir, 'tmp'), { recursive: true, mode: 0o700 });
  const promptFile = join(agentDir, 'prompt.md');
  writeFileSync(promptFile, prompt, { mode: 0o600 });
  let launch: AgentLaunch;
  try {
    launch = resolveAgent(recipe, {
      model: cmd.model,
      extra: cmd.extra,
      prompt,
      prompt_file: promptFile,
      agent_dir: agentDir,
      mcp: mcpServer(url, token, taskId, runDir),
      root: process.getuid?.() === 0,
      env: process.env,
    });
  } catch (err) {
    if (!(err instanceof AgentSetupError)) throw err;
    say(err.message);
    return EXIT_CONFIG_ERROR;
  }
  for (const f of launch.files) {
    mkdirSync(dirname(f.path), { recursive: true, mode: 0o700 });
    writeFileSync(f.path, f.content, { mode: 0o600 });
  }
  const [command, ...args] = launch.argv;
  if (command === undefined) return EXIT_CONFIG_ERROR;
  // The group's signals reach the agent too: the launcher stays to map its ending.
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, () => undefined);
  const identity = recipe.git_identity ? gitIdentityEnv(process.env, process.cwd()) : {};
  const child = spawn(command, args, {
    env: { ...process.env, ...identity, ...launch.env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const ended = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
    (resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) => resolve({ code, signal }));
    },
  );
  if (ended.signal !== null) return 128 + (constants.signals[ended.signal] ?? 0);
  const code = ended.code ?? 1;
  const lines = readTail(join(runDir, 'output.log'), TAIL_BYTES)
    .split('\n')
    .filter((l) => l.trim() !== '');
  const mapped = mapAgentExit(recipe, code, lines);
  if (mapped.kind === 'rate_limited') {
    say(`${recipe.title} was rate limited (exit ${code} → 75): ${mapped.matched ?? ''}`);
  } else if (mapped.kind === 'config_error') {
    say(`${recipe.title} has a configuration error (exit ${code} → 78): ${mapped.matched ?? ''}`);
  } else if (code !== 0) {
    // The run's reason quotes the log's last line: this one, in words, not the agent's JSON.
    const word = finalWord(lines.slice(-SIGN_LINES));
    if (word !== null || statusFromShell(code).signal !== null) {
      say(`${recipe.title} exited ${code}${word === null ? '' : `: ${word}`}`);
    }
  } else if (await stillOpen(url, token)) {
    // The reason will say the worker "used the worker protocol" (this launcher did, to read
    // the task): the log's last line says it was the agent that never reported. Its words
    // from the whole tail read: a message streamed in many chunks spans many lines.
    const word = finalWord(lines);
    say(
      `${recipe.title} exited 0 without calling warden_complete${word === null ? '' : `; its last words: ${word}`}`,
    );
  }
  // 128 + a signal's number reads as death by that signal to the shim and to serve: Gemini
  // CLI exits with an API error's HTTP status mod 256 (400 → 144), which was reported as
  // SIGSTKFLT. The agent exited: 1, and the line above names its own status.
  return mapped.kind === null && statusFromShell(mapped.code).signal !== null ? 1 : mapped.code;
}

/** Whether the run is still open with no report (false when serve cannot say). */
async function stillOpen(url: string, token: string): Promise<boolean> {
  try {
    const context = await callApi<WorkerContext>(
      url,
      token,
      'GET',
      '/api/v1/worker/context',
      undefined,
      5_000,
    );
    return context.run.state === 'running';
  } catch {
    return false;
  }
}
