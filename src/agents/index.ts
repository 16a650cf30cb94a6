import { invalid } from '../core/errors.js';
import { recipe as aider } from './aider.js';
import { recipe as claudeCode } from './claude-code.js';
import { recipe as codex } from './codex.js';
import { recipe as gemini } from './gemini.js';
import { recipe as hermes } from './hermes.js';
import { recipe as mcp } from './mcp.js';
import { recipe as opencode } from './opencode.js';
import { PLACEHOLDERS } from './recipe.js';
import type { AgentRecipe } from './recipe.js';

/** Every agent recipe; adding an agent is adding its file and a line here. */
export const AGENTS: readonly AgentRecipe[] = [
  claudeCode,
  codex,
  gemini,
  opencode,
  aider,
  hermes,
  mcp,
];

/** The recipe of `kind`, or `invalid` naming the known kinds. */
export function findAgent(kind: string): AgentRecipe {
  const recipe = AGENTS.find((a) => a.kind === kind);
  if (!recipe) {
    throw invalid(
      `--agent: unknown agent '${kind}'; known agents: ${AGENTS.map((a) => a.kind).join(', ')}`,
    );
  }
  return recipe;
}

/** What a profile made with `--agent` runs: the launcher, with the recipe's kind and options. */
export interface AgentCommand {
  kind: string;
  model: string | null;
  extra: string[];
}

/** The first two words of an agent profile's argv: `warden agent-run`. */
export const AGENT_RUN = ['warden', 'agent-run'] as const;

/** The argv stored in an agent profile: the launcher resolves the recipe per run. */
export function agentArgv(cmd: AgentCommand): string[] {
  return [
    ...AGENT_RUN,
    cmd.kind,
    ...(cmd.model !== null ? ['--model', cmd.model] : []),
    '--',
    ...cmd.extra,
  ];
}

/** The agent command of a profile's argv, or null when the profile runs something else. */
export function parseAgentArgv(argv: readonly string[]): AgentCommand | null {
  if (argv[0] !== AGENT_RUN[0] || argv[1] !== AGENT_RUN[1] || argv[2] === undefined) return null;
  let model: string | null = null;
  let i = 3;
  if (argv[i] === '--model' && argv[i + 1] !== undefined) {
    model = argv[i + 1] ?? null;
    i += 2;
  }
  if (argv[i] === '--') i += 1;
  return { kind: argv[2], model, extra: argv.slice(i) };
}

/**
 * Checks an agent command before it is stored: a known kind, a model where the agent needs
 * one, and for `mcp` a command that takes the MCP file and the prompt.
 */
export function checkAgentCommand(cmd: AgentCommand): AgentRecipe {
  const recipe = findAgent(cmd.kind);
  if (recipe.requires_model && cmd.model === null) {
    throw invalid(`--agent ${recipe.kind} needs --model (${recipe.title} would ask for one)`);
  }
  const form = recipe.model_form;
  if (form !== undefined && cmd.model !== null && !form.pattern.test(cmd.model)) {
    throw invalid(
      `--agent ${recipe.kind} takes --model in the form ${form.example}, not '${cmd.model}' (${form.why})`,
    );
  }
  if (recipe.executable === null) {
    const text = cmd.extra.join(' ');
    if (
      cmd.extra.length === 0 ||
      !text.includes('{mcp_config}') ||
      !/\{prompt(_file)?\}/.test(text)
    ) {
      throw invalid(
        `--agent mcp: give the agent's command after --, with {mcp_config} where it takes an MCP configuration file and {prompt} or {prompt_file} where it takes the prompt (placeholders: ${PLACEHOLDERS.join(', ')})`,
      );
    }
  }
  return recipe;
}

/**
 * Refuses a profile that gives its agent the model twice, with `--model` and the agent's own
 * model option after `--` (which the agent would take, whatever `--model` said). Checked as a
 * profile is added or edited only: a stored one ran before this check, and is not failed now.
 */
export function checkModelOnce(recipe: AgentRecipe, cmd: AgentCommand): void {
  const given = modelInExtra(recipe, cmd.extra);
  if (cmd.model !== null && given !== null) {
    throw invalid(
      `the model is given twice: --model ${cmd.model} and '${given}' after --; give it once, with --model`,
    );
  }
}

/** The argument after `--` that chooses the model (`--model X`, `-m X`, `--model=X`), if any. */
function modelInExtra(recipe: AgentRecipe, extra: readonly string[]): string | null {
  const flags = [recipe.model_args[0], ...(recipe.model_aliases ?? [])].filter(
    (f): f is string => f !== undefined && f.startsWith('-'),
  );
  // `-m X`, `-m=X` and the attached `-mX` of a one-letter flag; `--model X`, `--model=X`.
  const names = (a: string, f: string): boolean =>
    a === f || a.startsWith(`${f}=`) || (/^-[a-zA-Z]$/.test(f) && a.startsWith(f));
  return extra.find((a) => flags.some((f) => names(a, f))) ?? null;
}

/** The executable a profile of `cmd` runs (for `mcp`, the first word of its command). */
export function agentExecutable(recipe: AgentRecipe, cmd: AgentCommand): string | null {
  return recipe.executable ?? cmd.extra[0] ?? null;
}
