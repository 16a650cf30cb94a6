import type { Command } from 'commander';
import { WardenError, invalid } from '../../core/errors.js';
import { POLICY_FIELDS } from '../../core/policy.js';
import { checkName } from '../../core/checks.js';
import { parseInput } from '../../core/validate.js';
import { pauseNote, profilePatchSchema, profileSpecSchema } from '../../core/profile.js';
import { checkProfileOnThisHost, findExecutable } from '../../config/executable.js';
import {
  agentArgv,
  agentExecutable,
  checkAgentCommand,
  checkModelOnce,
  parseAgentArgv,
} from '../../agents/index.js';
import type { AgentCommand } from '../../agents/index.js';
import type { AgentRecipe } from '../../agents/recipe.js';
import { agentProfileText } from '../../agents/describe.js';
import { parseWorkspace } from '../../core/worktree.js';
import type { WorktreeSpec } from '../../core/worktree.js';
import { READING, withContext } from '../context.js';
import {
  LLM_CLEARABLE,
  addLlmOptions,
  budgetFields,
  llmFields,
  newLlmSpec,
} from '../llm-options.js';
import type { LlmOptions } from '../llm-options.js';
import { profileDetail, policyText } from '../format.js';
import {
  addPolicyOptions,
  collect,
  parseEnvPairs,
  parseIntOption,
  readPolicyOptions,
  refuseSetAndClear,
} from '../options.js';
import { say, sayJson, table } from '../output.js';

interface ProfileOptions extends LlmOptions {
  maxConcurrency?: string;
  concurrencyGroup?: string;
  env?: string[];
  inheritEnv?: string[];
  unsetEnv?: string[];
  cwd?: string;
  workspace?: string;
  setup?: string;
  progressFromWorkspace?: boolean;
  requireApproval?: boolean;
  reviewer?: string;
  selfReview?: boolean;
  clear?: string[];
  check: boolean;
  pull?: boolean;
  agent?: string;
  model?: string;
  json?: boolean;
  [policy: string]: unknown;
}

const CLEARABLE_FIELDS = [
  'reviewer',
  'max_concurrency',
  'concurrency_group',
  'inherit_env',
  'setup',
  'progress_from_workspace',
] as const;

function shared(cmd: Command): Command {
  cmd
    .option('--max-concurrency <n>', 'most runs of this profile at once')
    .option('--concurrency-group <name>', 'share a cap with other profiles of this group')
    .option(
      '--env <KEY=VALUE>',
      'set an environment variable for its workers (repeatable)',
      collect,
    )
    .option(
      '--inherit-env <NAME>',
      "pass this variable (or PREFIX_*) of serve's environment to its workers, beyond PATH, HOME, locale and the like (repeatable; on edit, replaces the list)",
      collect,
    )
    .option('--cwd <dir>', "'workspace' (a folder per task, the default) or an absolute path")
    .option(
      '--workspace <kind>',
      "'folder' (a plain folder per task) or 'worktree:REPO[@BASE]' (a git worktree per task on branch warden/<id>; docs/worktrees.md)",
    )
    .option(
      '--setup <command>',
      'with a worktree: run once per worktree before its first worker (sh -c)',
    )
    .option(
      '--progress-from-workspace',
      'file changes in the workspace count as progress (default: on for worktrees)',
    )
    .option('--no-progress-from-workspace', 'file changes in the workspace are not progress')
    .option('--no-check', 'do not check that the command and cwd exist on this host')
    .option(
      '--reviewer <profile>',
      'a run of this profile reviews its work when a worker requests review (else a person does)',
    )
    .option('--self-review', 'allow --reviewer to name the profile itself')
    .option('--require-approval', "its tasks wait for a person's `warden approve` before they run")
    .option('--no-require-approval', 'its tasks run without approval (the default)')
    .option('--json', 'print the profile as JSON');
  return addPolicyOptions(addLlmOptions(cmd));
}

function specFields(opts: ProfileOptions): Record<string, unknown> {
  return {
    env: opts.env === undefined ? undefined : parseEnvPairs(opts.env),
    inherit_env: opts.inheritEnv,
    cwd: opts.cwd,
    worktree: opts.workspace === undefined ? undefined : parseWorkspace(opts.workspace),
    setup: opts.setup,
    progress_from_workspace: opts.progressFromWorkspace,
    max_concurrency:
      opts.maxConcurrency === undefined
        ? undefined
        : parseIntOption(opts.maxConcurrency, '--max-concurrency'),
    concurrency_group: opts.concurrencyGroup,
    require_approval: opts.requireApproval,
    reviewer: opts.reviewer,
    self_review: opts.selfReview,
  };
}

/** REPO a git repository with BASE in it, on this host: refused before anything is written. */
async function checkWorktree(spec: WorktreeSpec): Promise<void> {
  // Loaded here only: git's module is not needed by the other profile commands.
  const { checkRepository } = await import('../../git/worktree.js');
  const { GitError } = await import('../../git/git.js');
  try {
    await checkRepository(spec.repo, spec.base);
  } catch (err) {
    if (!(err instanceof GitError)) throw err;
    // Only a git that could not answer now gets here (took too long, could not start).
    throw new WardenError(
      'unavailable',
      `--workspace: could not check '${spec.repo}' now (${err.message}); try again`,
    );
  }
}

/** `--clear` of a proxy setting: `llm` drops the proxy and every budget with it. */
function clearLlm(fields: Record<string, unknown>, key: string): void {
  const llm = (fields.llm ?? {}) as Record<string, unknown>;
  const budget = (fields.budget ?? {}) as Record<string, unknown>;
  if (key === 'llm') {
    fields.llm = null;
    fields.budget = { max_tokens_per_task: null, max_cost_per_task: null, max_cost_per_day: null };
  } else if (key === 'llm_max_concurrency' || key === 'llm_max_rate_limits') {
    fields.llm = { ...llm, [key.slice('llm_'.length)]: null };
  } else if (
    key === 'max_tokens_per_task' ||
    key === 'max_cost_per_task' ||
    key === 'max_cost_per_day'
  ) {
    // Only the budget's own keys: max_failures, max_runtime and the like are policy.
    fields.budget = { ...budget, [key]: null };
  }
}

function profileName(text: string): string {
  return checkName(text, 'profile name');
}

export function register(program: Command): void {
  const profile = program
    .command('profile')
    .description('how workers are run: add, edit, list, show, remove, pause, resume');

  shared(
    profile
      .command('add')
      .description('add a profile; the command after -- runs without a shell')
      .argument('<name>', 'the profile name, used as a task assignee')
      .argument('[argv...]', 'the command and its arguments, after --')
      .option('--pull', 'runs are claimed by pull workers (SDK, HTTP) instead of started by serve')
      .option(
        '--agent <kind>',
        'run a coding agent by its recipe (claude-code, codex, gemini, opencode, aider, hermes, mcp); arguments after -- go to the agent',
      )
      .option('--model <model>', 'the model an --agent profile uses', onlyOnce('--model')),
  ).action(async (nameText: string, given: string[], opts: ProfileOptions) => {
    const name = profileName(nameText);
    const mode = opts.pull ? 'pull' : 'spawned';
    if (opts.pull && given.length > 0)
      throw invalid('a pull profile has no command; drop the part after --');
    if (opts.model !== undefined && opts.agent === undefined)
      throw invalid('--model is for --agent profiles; put a model option in the command after --');
    if (opts.agent !== undefined && opts.pull)
      throw invalid('--agent and --pull do not go together');
    const agent =
      opts.agent === undefined
        ? null
        : { kind: opts.agent, model: opts.model ?? null, extra: given };
    const recipe = agent === null ? null : checkAgentCommand(agent);
    if (recipe !== null && agent !== null) checkModelOnce(recipe, agent);
    const argv = agent === null ? given : agentArgv(agent);
    const fields = specFields(opts);
    fields.llm = newLlmSpec(opts, recipe?.llm_kind ?? null);
    fields.budget = budgetFields(opts);
    // An agent edits files for minutes between lines of output: its edits are progress too.
    if (agent !== null) fields.progress_from_workspace ??= true;
    const spec = parseInput(profileSpecSchema, { mode, argv, ...fields }, 'profile');
    if (opts.check && recipe !== null && agent !== null) {
      checkAgentInstalled(recipe, agent);
      checkProfileOnThisHost([], spec.cwd);
    } else if (opts.check && mode === 'spawned') checkProfileOnThisHost(spec.argv ?? [], spec.cwd);
    if (opts.check && spec.worktree) await checkWorktree(spec.worktree);
    const policy = {
      ...(recipe?.exit_zero !== undefined ? { exit_zero: recipe.exit_zero } : {}),
      ...readPolicyOptions(opts),
    };
    const p = await withContext((ctx) =>
      ctx.store.addProfile(name, { ...spec, policy }, ctx.actor),
    );
    if (opts.json) sayJson(p);
    else say(`profile ${p.name} added (version ${p.version})`);
  });

  shared(
    profile
      .command('edit')
      .description(
        "change a profile; give a new command after -- to replace it (an --agent profile's: its agent's arguments)",
      )
      .argument('<name>', 'the profile name')
      .argument('[argv...]', "a new command, or an --agent profile's agent arguments, after --")
      .option('--unset-env <KEY>', 'remove an environment variable (repeatable)', collect)
      .option(
        '--clear <option>',
        'drop a limit, max_concurrency / concurrency_group, the inherit_env list, setup, progress_from_workspace, llm (the model proxy and its budgets), llm_max_concurrency, llm_max_rate_limits or a budget (repeatable)',
        collect,
      )
      .option(
        '--model <model>',
        'the model an --agent profile uses, in place of the one it has',
        onlyOnce('--model'),
      ),
  ).action(async (nameText: string, argv: string[], opts: ProfileOptions) => {
    const name = profileName(nameText);
    const fields = specFields(opts);
    fields.llm = llmFields(opts, null);
    fields.budget = budgetFields(opts);
    const clear = opts.clear ?? [];
    for (const key of clear) {
      if (
        !POLICY_FIELDS.some((f) => f.key === key) &&
        !(CLEARABLE_FIELDS as readonly string[]).includes(key) &&
        !(LLM_CLEARABLE as readonly string[]).includes(key)
      ) {
        const known = [
          ...CLEARABLE_FIELDS,
          ...LLM_CLEARABLE,
          ...POLICY_FIELDS.map((f) => f.key),
        ].join(', ');
        throw invalid(`--clear: unknown option '${key}'; known: ${known}`);
      }
      clearLlm(fields, key);
      if (key === 'max_concurrency' || key === 'concurrency_group') fields[key] = null;
      if (key === 'inherit_env') fields[key] = [];
      if (key === 'setup' || key === 'progress_from_workspace' || key === 'reviewer')
        fields[key] = null;
    }
    const patch = parseInput(
      profilePatchSchema,
      { ...fields, ...(argv.length > 0 ? { argv } : {}) },
      'profile',
    );
    if (opts.check && patch.worktree) await checkWorktree(patch.worktree);
    const policy = readPolicyOptions(opts);
    refuseSetAndClear(clear, opts);
    const unsetBoth = (opts.unsetEnv ?? []).find((k) => patch.env?.[k] !== undefined);
    if (unsetBoth !== undefined) {
      throw invalid(
        `--env ${unsetBoth}=... and --unset-env ${unsetBoth} were both given; give one`,
      );
    }
    const given =
      opts.model !== undefined ||
      Object.values(patch).some((v) => v !== undefined) ||
      Object.keys(policy).length > 0 ||
      clear.length > 0 ||
      (opts.unsetEnv ?? []).length > 0;
    if (!given) throw invalid('nothing to change; give an option to set or a new command after --');
    const p = await withContext(async (ctx) => {
      const before = await ctx.store.getProfile(name);
      const agent = parseAgentArgv(before.argv);
      if (agent !== null && (opts.model !== undefined || argv.length > 0)) {
        // An agent profile's arguments after -- go to its agent, as on `profile add` (a trial's
        // edit replaced the launcher with them, and the agent was gone without a word).
        const cmd = {
          ...agent,
          ...(opts.model !== undefined ? { model: opts.model } : {}),
          ...(argv.length > 0 ? { extra: argv } : {}),
        };
        const recipe = checkAgentCommand(cmd);
        checkModelOnce(recipe, cmd);
        patch.argv = agentArgv(cmd);
        if (opts.check && argv.length > 0) checkAgentInstalled(recipe, cmd);
        if (opts.check && patch.cwd !== undefined) checkProfileOnThisHost([], patch.cwd);
      } else {
        if (opts.model !== undefined) {
          throw invalid(
            `--model is for --agent profiles; profile ${before.name} runs its own command: give a new command after --`,
          );
        }
        if (opts.check && (patch.argv !== undefined || patch.cwd !== undefined))
          checkProfileOnThisHost(patch.argv ?? [], patch.cwd);
      }
      // A proxy added to an agent profile speaks its agent's API, as on `profile add`; one
      // there already keeps the kind it has.
      if (patch.llm?.upstream !== undefined && patch.llm.kind === undefined) {
        const agent = before.llm === null ? parseAgentArgv(patch.argv ?? before.argv) : null;
        const kind = agent === null ? undefined : checkAgentCommand(agent).llm_kind;
        if (kind !== undefined) patch.llm = { ...patch.llm, kind };
      }
      return ctx.store.editProfile(
        name,
        { ...patch, policy, clear_policy: clear, unset_env: opts.unsetEnv ?? [] },
        ctx.actor,
      );
    });
    if (opts.json) sayJson(p);
    else say(`profile ${p.name} is at version ${p.version}`);
  });

  profile
    .command('list')
    .description('list profiles')
    .option('--json', 'print the profiles as JSON')
    .action(async (opts: { json?: boolean }) => {
      const profiles = await withContext((ctx) => ctx.store.listProfiles(), READING);
      if (opts.json) {
        sayJson(profiles);
        return;
      }
      if (profiles.length === 0) {
        say('no profiles; add one with `warden profile add NAME -- COMMAND`');
        return;
      }
      say(
        table(
          ['NAME', 'VERSION', 'STATE', 'CAP', 'COMMAND', 'LIMITS'],
          profiles.map((p) => [
            p.name,
            String(p.version),
            p.paused ? 'paused' : 'active',
            p.max_concurrency === null ? '-' : String(p.max_concurrency),
            p.argv.join(' '),
            policyText(p.policy),
          ]),
        ),
      );
    });

  profile
    .command('show')
    .description('show one profile')
    .argument('<name>', 'the profile name')
    .option('--json', 'print the profile as JSON')
    .action(async (nameText: string, opts: { json?: boolean }) => {
      const name = profileName(nameText);
      const [p, home] = await withContext(
        async (ctx) => [await ctx.store.getProfile(name), ctx.home.root] as const,
        READING,
      );
      if (opts.json) return sayJson(p);
      say(profileDetail(p));
      const agent = agentProfileText(p, home, process.getuid?.() === 0);
      if (agent !== null) say(agent);
    });

  profile
    .command('remove')
    .description('remove a profile (refused while open tasks are assigned to it)')
    .argument('<name>', 'the profile name')
    .action(async (nameText: string) => {
      const name = profileName(nameText);
      await withContext((ctx) => ctx.store.removeProfile(name, ctx.actor));
      say(`profile ${name} removed`);
    });

  for (const verb of ['pause', 'resume'] as const) {
    profile
      .command(verb)
      .description(
        verb === 'pause'
          ? 'stop starting new runs of a profile'
          : 'start runs of a paused profile again',
      )
      .argument('<name>', 'the profile name')
      .option('--reason <text>', 'why (shown on the board)')
      .option('--json', 'print the profile as JSON')
      .action(async (nameText: string, opts: { reason?: string; json?: boolean }) => {
        const name = profileName(nameText);
        const p = await withContext((ctx) => {
          const who = ctx.actor.kind === 'person' ? ctx.actor.name : 'a person';
          // The reason is shown on a paused profile and kept on the pause or resume event.
          const reason = opts.reason ?? pauseNote(verb === 'pause', who);
          return ctx.store.setProfilePaused(name, verb === 'pause', reason, ctx.actor);
        });
        if (opts.json) sayJson(p);
        else say(`profile ${p.name} is ${p.paused ? 'paused' : 'active'}`);
      });
  }
}

/**
 * An option's parser that refuses it given twice: commander keeps the last, and a trial's
 * `--model a/b --model c/d` stored c/d without a word.
 */
function onlyOnce(flag: string): (value: string, previous: string | undefined) => string {
  return (value, previous) => {
    if (previous !== undefined)
      throw invalid(`${flag} was given twice ('${previous}', '${value}'); give it once`);
    return value;
  };
}

/** Refuses an agent profile whose agent's executable is not on PATH here (`--no-check` skips). */
function checkAgentInstalled(recipe: AgentRecipe, cmd: AgentCommand): void {
  const exe = agentExecutable(recipe, cmd);
  if (exe !== null && findExecutable(exe) === null) {
    throw invalid(
      `${recipe.title} is not installed: '${exe}' was not found on PATH; install it (${recipe.install}) or pass --no-check if it exists only on other hosts`,
    );
  }
}
