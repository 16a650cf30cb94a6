/**
 * Agent recipes (issue #12): how to run one coding-agent CLI as a warden worker, as data. A
 * recipe says which executable to run, the arguments of its non-interactive mode with the
 * output mode that streams its activity, where the prompt goes, where and in which format it
 * takes an MCP server configuration, which environment it needs (telemetry and update checks
 * off), and which of its exit codes and output lines mean a rate limit or a bad configuration.
 * One file per agent in this folder; `index.ts` lists them. Pure: `resolveAgent` turns a recipe
 * and one run's values into the argv, env and files the launcher (`launch.ts`) uses, and
 * `warden profile show` prints the same with the run's values as placeholders.
 */

import { llmUrlForHeader } from '../core/llm.js';
import type { LlmKind } from '../core/llm.js';

/** The MCP server every recipe gives its agent: `warden mcp` with the run's own identity. */
export interface McpServerSpec {
  /** An absolute path: some agents start their servers with a filtered PATH. */
  command: string;
  args: string[];
  /** WARDEN_URL, WARDEN_TASK_ID and WARDEN_RUN_TOKEN, passed explicitly. */
  env: Record<string, string>;
}

/** Where and in which format an agent takes its MCP configuration. */
export type McpFormat =
  /** `{"mcpServers": {...}}` in a file of the run (`{mcp_config}` in the arguments). */
  | 'mcp-json'
  /** `-c mcp_servers.warden.*=...` TOML overrides in the arguments (`{mcp_args}`). */
  | 'codex-overrides'
  /** `settings.json` under a per-run `GEMINI_CLI_HOME`. */
  | 'gemini-settings'
  /** The `mcp` key of `OPENCODE_CONFIG_CONTENT`. */
  | 'opencode-config'
  /** `config.yaml` under a per-run `HERMES_HOME`. */
  | 'hermes-config';

/** Exit codes and output lines that say how an agent's run went wrong. */
export interface ExitSigns {
  exit_codes: readonly number[];
  /** Matched against the last lines of its output. */
  lines: readonly RegExp[];
}

export interface AgentRecipe {
  /** What `--agent` takes. */
  kind: string;
  /** The agent's name in words. */
  title: string;
  /** The executable on PATH; null when the person gives the command (`mcp`). */
  executable: string | null;
  /** How to install it, for the refusal when it is missing. */
  install: string;
  /**
   * The arguments after the executable. `{prompt}`, `{prompt_file}` and `{mcp_config}` are
   * replaced inside an argument; `{mcp_args}`, `{llm_args}`, `{model_args}` and `{extra}` stand alone and
   * expand to zero or more arguments (`{model_args}` and `{extra}` go last when not placed).
   */
  args: readonly string[];
  /** The arguments that choose a model, with `{model}`. */
  model_args: readonly string[];
  /** Its CLI's other spellings of the model option (`-m`), beside `model_args`' first word. */
  model_aliases?: readonly string[];
  /** Refuse a profile without `--model` (an agent that would otherwise ask interactively). */
  requires_model?: boolean;
  /** The form its `--model` must have, and an example, when it has one (OpenCode's PROVIDER/MODEL). */
  model_form?: { pattern: RegExp; example: string; why: string };
  mcp: McpFormat | null;
  /** Set unless the run's environment sets them already (telemetry and update checks off). */
  env: Readonly<Record<string, string>>;
  /** Always set, over the run's environment: per-run folders (`{agent_dir}` is the run's). */
  force_env?: Readonly<Record<string, string>>;
  /** Set only when the worker runs as root. */
  root_env?: Readonly<Record<string, string>>;
  /** The profile's `exit_zero` for an agent that cannot report through MCP. */
  exit_zero?: 'complete';
  rate_limited: ExitSigns;
  config_error: ExitSigns;
  /** The model API it speaks, for `--llm-upstream` without `--llm-kind` (issue #13). */
  llm_kind?: LlmKind;
  /**
   * The arguments that send its model traffic through `serve`'s proxy when the profile has
   * one (`{llm_args}` in `args`), for an agent that does not read its kind's base-URL
   * variable; `{llm_url}` is the run's proxy URL for a client that sends its token in a header
   * (`llmUrlForHeader`), `{llm_key_env}` the variable holding its API key.
   */
  llm_args?: readonly string[];
  /** Also look at the output of a run that exited 0 (an agent that exits 0 on API errors). */
  signs_on_success?: boolean;
  /**
   * Give the agent the workspace's git identity as GIT_AUTHOR_* and GIT_COMMITTER_* (an agent
   * whose shell tool hides the user's git configuration could not commit otherwise).
   */
  git_identity?: boolean;
}

/** A run's agent cannot be set up as its profile says: a configuration error (exit 78). */
export class AgentSetupError extends Error {
  override readonly name = 'AgentSetupError';
}

/** One run's values. */
export interface AgentRunValues {
  model: string | null;
  /** The arguments after `--` of `profile add` (for `mcp`: the whole command). */
  extra: readonly string[];
  prompt: string;
  /** A file holding the prompt. */
  prompt_file: string;
  /** A folder of the run's own for the agent's files (under `runs/ID`). */
  agent_dir: string;
  mcp: McpServerSpec;
  root: boolean;
  /** The run's environment, for settings that depend on it. */
  env: Readonly<Record<string, string | undefined>>;
}

/** What a run starts: the argv, the variables to add, and the files to write first. */
export interface AgentLaunch {
  argv: string[];
  env: Record<string, string>;
  files: { path: string; content: string }[];
}

/** The placeholders a command of the `mcp` recipe may use. */
export const PLACEHOLDERS = ['{prompt}', '{prompt_file}', '{mcp_config}'] as const;

const SERVER_NAME = 'warden';

function toml(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(toml).join(', ')}]`;
  if (typeof value === 'object' && value !== null) {
    const body = Object.entries(value)
      .map(([k, v]) => `${/^[A-Za-z0-9_-]+$/.test(k) ? k : JSON.stringify(k)} = ${toml(v)}`)
      .join(', ');
    return `{ ${body} }`;
  }
  return String(value);
}

/** The MCP configuration of `format`: files, variables and arguments, and the file's path. */
function mcpConfig(
  format: McpFormat,
  v: AgentRunValues,
): { files: AgentLaunch['files']; env: Record<string, string>; args: string[]; path: string } {
  const s = v.mcp;
  const dir = v.agent_dir;
  switch (format) {
    case 'mcp-json': {
      const path = `${dir}/mcp.json`;
      const server = { type: 'stdio', command: s.command, args: s.args, env: s.env };
      const content = JSON.stringify({ mcpServers: { [SERVER_NAME]: server } }, null, 2);
      return { files: [{ path, content }], env: {}, args: [], path };
    }
    case 'codex-overrides': {
      // The token is named in env_vars, so codex forwards it from its own environment: put
      // into `env` it would be on the command line, which any user of the machine can read.
      const plain = Object.fromEntries(
        Object.entries(s.env).filter(([k]) => k !== 'WARDEN_RUN_TOKEN'),
      );
      const key = `mcp_servers.${SERVER_NAME}`;
      const settings: [string, unknown][] = [
        ['command', s.command],
        ['args', s.args],
        ['env', plain],
        ['env_vars', Object.keys(s.env).filter((k) => !(k in plain))],
        ['required', true],
      ];
      const args = settings.flatMap(([k, value]) => ['-c', `${key}.${k}=${toml(value)}`]);
      return { files: [], env: {}, args, path: '' };
    }
    case 'gemini-settings': {
      const home = `${dir}/gemini-home`;
      const path = `${home}/.gemini/settings.json`;
      const settings: Record<string, unknown> = {
        mcpServers: {
          [SERVER_NAME]: { command: s.command, args: s.args, env: s.env, trust: true },
        },
        privacy: { usageStatisticsEnabled: false },
        telemetry: { enabled: false },
        general: { enableAutoUpdate: false, enableAutoUpdateNotification: false },
      };
      // With a per-run home no stored login is seen; an API key in the environment is the
      // auth, and naming it keeps a GOOGLE_GEMINI_BASE_URL from choosing another (exit 41).
      if (v.env.GEMINI_API_KEY) settings.security = { auth: { selectedType: 'gemini-api-key' } };
      return {
        files: [{ path, content: JSON.stringify(settings, null, 2) }],
        env: { GEMINI_CLI_HOME: home },
        args: [],
        path,
      };
    }
    case 'opencode-config': {
      // Over the profile's own (a provider of its own, say), which OpenCode would not see
      // otherwise: this variable holds one configuration, not a list.
      const own = ownOpencodeConfig(v.env.OPENCODE_CONFIG_CONTENT);
      const config = {
        ...own,
        mcp: {
          ...(isObject(own.mcp) ? own.mcp : {}),
          [SERVER_NAME]: {
            type: 'local',
            command: [s.command, ...s.args],
            environment: s.env,
            enabled: true,
          },
        },
        share: 'disabled',
        autoupdate: false,
      };
      const env: Record<string, string> = { OPENCODE_CONFIG_CONTENT: JSON.stringify(config) };
      // Its Anthropic provider (the AI SDK's) takes a base URL that ends in /v1, where
      // Anthropic's SDKs and Claude Code add /v1 themselves: the proxy's path gets it here.
      const url = v.env.WARDEN_LLM_URL;
      if (url !== undefined && url !== '' && v.env.ANTHROPIC_BASE_URL === url) {
        env.ANTHROPIC_BASE_URL = `${url}/v1`;
      }
      return { files: [], env, args: [], path: '' };
    }
    case 'hermes-config': {
      const home = `${dir}/hermes-home`;
      const path = `${home}/config.yaml`;
      // JSON is YAML: no YAML writer needed.
      const config = {
        mcp_servers: { [SERVER_NAME]: { command: s.command, args: s.args, env: s.env } },
      };
      return {
        files: [{ path, content: `${JSON.stringify(config, null, 2)}\n` }],
        env: { HERMES_HOME: home },
        args: [],
        path,
      };
    }
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A profile's OPENCODE_CONFIG_CONTENT, read to be kept: a JSON object, or nothing. */
function ownOpencodeConfig(text: string | undefined): Record<string, unknown> {
  if (text === undefined || text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new AgentSetupError(
      `OPENCODE_CONFIG_CONTENT is not JSON (${(err as Error).message}); fix it in the profile's environment`,
    );
  }
  if (!isObject(parsed)) {
    throw new AgentSetupError(
      "OPENCODE_CONFIG_CONTENT is not a JSON object; fix it in the profile's environment",
    );
  }
  return parsed;
}

function fill(text: string, values: Record<string, string>): string {
  return text.replace(
    /\{(prompt|prompt_file|mcp_config|model|agent_dir|llm_url|llm_key_env)\}/g,
    (m, k: string) => (k in values ? (values[k] ?? m) : m),
  );
}

/** `llm_args` filled for a run with a proxy (`WARDEN_LLM_URL` set); none without one. */
function llmArgs(recipe: AgentRecipe, v: AgentRunValues): string[] {
  const url = v.env.WARDEN_LLM_URL;
  if (recipe.llm_args === undefined || url === undefined || url === '') return [];
  // The key the agent's own provider reads: OpenAI's unless only Codex's is set.
  const keyEnv = !v.env.OPENAI_API_KEY && v.env.CODEX_API_KEY ? 'CODEX_API_KEY' : 'OPENAI_API_KEY';
  const values = { llm_url: llmUrlForHeader(url), llm_key_env: keyEnv };
  return recipe.llm_args.map((a) => fill(a, values));
}

/** The argv, env and files of one run of `recipe`. */
export function resolveAgent(recipe: AgentRecipe, v: AgentRunValues): AgentLaunch {
  const mcp = recipe.mcp === null ? null : mcpConfig(recipe.mcp, v);
  const values: Record<string, string> = {
    prompt: v.prompt,
    prompt_file: v.prompt_file,
    mcp_config: mcp?.path ?? '',
    agent_dir: v.agent_dir,
    ...(v.model !== null ? { model: v.model } : {}),
  };
  const model = v.model === null ? [] : recipe.model_args.map((a) => fill(a, values));
  // For `mcp` the whole command comes from the person; placeholders are filled in it too.
  const extra = recipe.executable === null ? v.extra.map((a) => fill(a, values)) : [...v.extra];
  const template = recipe.executable === null ? [] : recipe.args;
  const argv: string[] = [];
  for (const a of template) {
    if (a === '{mcp_args}') argv.push(...(mcp?.args ?? []));
    else if (a === '{llm_args}') argv.push(...llmArgs(recipe, v));
    else if (a === '{model_args}') argv.push(...model);
    else if (a === '{extra}') argv.push(...extra);
    else argv.push(fill(a, values));
  }
  if (!template.includes('{model_args}')) argv.push(...model);
  if (!template.includes('{extra}')) argv.push(...extra);
  const env: Record<string, string> = {};
  for (const [k, value] of Object.entries(recipe.env)) {
    if (v.env[k] === undefined) env[k] = fill(value, values);
  }
  for (const [k, value] of Object.entries(recipe.force_env ?? {})) env[k] = fill(value, values);
  if (v.root) Object.assign(env, recipe.root_env ?? {});
  Object.assign(env, mcp?.env ?? {});
  const files = [...(mcp?.files ?? [])];
  const command = recipe.executable === null ? [] : [recipe.executable];
  return { argv: [...command, ...argv], env, files };
}
