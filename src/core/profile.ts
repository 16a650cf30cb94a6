import { z } from 'zod';
import type { EpochMs } from './glossary.js';
import type { PolicyOverrides } from './policy.js';
import { INPUT_LIMITS } from './defaults.js';
import { nameSchema } from './validate.js';
import { INHERIT_NAME, WARDEN_ENV_PREFIX } from './worker-env.js';
import { worktreeMisfit } from './worktree.js';
import type { WorktreeSpec } from './worktree.js';
import { BUDGET_MISFIT, LLM_KINDS, hasBudget, isHttpUrl } from './llm.js';
import type { BudgetSpec, LlmSpec } from './llm.js';

/** `workspace` (the task's own directory under the home) or an absolute path. */
export type CwdPolicy = string;

/** How to run a worker, stored and versioned so every host sees the same (SPEC §2). */
export interface Profile {
  name: string;
  /** Bumped on every edit; a run records the version it started with. */
  version: number;
  /** `spawned`: warden starts `argv` for each run; `pull`: external workers claim the runs. */
  mode: 'spawned' | 'pull';
  /** The command, run without a shell (empty for pull profiles). */
  argv: string[];
  /** Set for its workers, over what they inherit (src/core/worker-env.ts). */
  env: Record<string, string>;
  /**
   * Names (or `PREFIX_*`) its workers inherit from `serve`'s environment beyond the base set;
   * nothing else of `serve`'s environment reaches them (src/core/worker-env.ts).
   */
  inherit_env: string[];
  cwd: CwdPolicy;
  /** A git worktree per task instead of a plain folder (`--workspace worktree:REPO[@BASE]`). */
  worktree: WorktreeSpec | null;
  /** Run once per worktree before its first worker, through `/bin/sh -c` (e.g. `npm ci`). */
  setup: string | null;
  /** File changes in the workspace count as progress; null: on for worktrees, else off. */
  progress_from_workspace: boolean | null;
  /** Its workers' model traffic goes through `serve`'s proxy to this upstream (issue #13). */
  llm: LlmSpec | null;
  /** Token and cost budgets, counted at the proxy. */
  budget: BudgetSpec;
  /** Its tasks wait for a person's `warden approve` before they run (issue #14). */
  require_approval: boolean;
  /**
   * The profile whose run reviews this one's work when a worker asks for review (issue #14);
   * null: a person reviews. Never itself unless `self_review`.
   */
  reviewer: string | null;
  self_review: boolean;
  /** Most runs of this profile at once across the board; null: only other caps apply. */
  max_concurrency: number | null;
  /** A board-wide cap shared with other profiles of the same group. */
  concurrency_group: string | null;
  policy: PolicyOverrides;
  paused: boolean;
  paused_reason: string | null;
  /** Who paused it: a person, or the breaker after repeated failures. */
  paused_by: 'person' | 'breaker' | null;
  /** The breaker's state: the failure streak, trips and the next probe. */
  breaker: {
    failures: number;
    trips: number;
    failed_probes: number;
    probe_at: EpochMs | null;
    probe_run: number | null;
  };
  created_at: EpochMs;
  updated_at: EpochMs;
}

const envKey = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/);

const cwd = z.string().refine((s) => s === 'workspace' || s.startsWith('/'), {
  message: "must be 'workspace' or an absolute path",
});

const positiveInt = z.number().int().min(1, { message: 'must be at least 1' });
const positiveUsd = z
  .number()
  .positive({ message: 'must be more than 0 dollars' })
  .max(1_000_000, { message: 'must be at most 1,000,000 dollars' });

const llmSpec = z
  .object({
    upstream: z.string().max(2048).refine(isHttpUrl, {
      message: 'must be an http:// or https:// URL, like https://api.anthropic.com',
    }),
    kind: z.enum(LLM_KINDS, { message: `must be one of ${LLM_KINDS.join(', ')}` }),
    max_concurrency: positiveInt.nullable(),
    max_rate_limits: positiveInt.nullable(),
  })
  .strict();

const budgetSpec = z
  .object({
    max_tokens_per_task: positiveInt.nullable(),
    max_cost_per_task: positiveUsd.nullable(),
    max_cost_per_day: positiveUsd.nullable(),
  })
  .strict();

const profileFields = z
  .object({
    /** `spawned`: warden starts argv per run; `pull`: external workers claim runs. */
    mode: z.enum(['spawned', 'pull']).optional(),
    argv: z
      .array(z.string().min(1, { message: 'arguments must not be empty' }))
      .max(INPUT_LIMITS.argv_max_items)
      .optional(),
    env: z
      .record(z.string(), z.string())
      .refine((e) => Object.keys(e).every((k) => envKey.safeParse(k).success), {
        message: 'environment names are letters, digits and _, not starting with a digit',
      })
      .refine((e) => Object.keys(e).length <= INPUT_LIMITS.env_max_items, {
        message: `at most ${INPUT_LIMITS.env_max_items} variables`,
      })
      // Read by `warden worker` and `warden mcp` in every run: a bad one failed warden mcp at
      // its start, and a trial's agent ran with no warden tools and no word of why.
      .refine((e) => e.WARDEN_RETRY_FOR_MS === undefined || /^\d+$/.test(e.WARDEN_RETRY_FOR_MS), {
        message: 'WARDEN_RETRY_FOR_MS is a whole number of milliseconds (5000, not 5s)',
      })
      .optional(),
    inherit_env: z
      .array(
        z
          .string()
          .regex(INHERIT_NAME, {
            message: 'inherit names are letters, digits and _, or a prefix ending in * (AWS_*)',
          })
          .refine((n) => !n.startsWith(WARDEN_ENV_PREFIX), {
            message: `${WARDEN_ENV_PREFIX}* variables are warden's own and are never inherited`,
          }),
      )
      .max(INPUT_LIMITS.env_max_items)
      .optional(),
    cwd: cwd.optional(),
    worktree: z
      .object({
        repo: z.string().startsWith('/', { message: 'REPO must be an absolute path' }).max(4096),
        base: z.string().min(1).max(256).nullable(),
      })
      .strict()
      .nullable()
      .optional(),
    setup: z.string().min(1).max(INPUT_LIMITS.block_reason_max_chars).nullable().optional(),
    progress_from_workspace: z.boolean().nullable().optional(),
    llm: llmSpec.nullable().optional(),
    budget: budgetSpec.partial().optional(),
    require_approval: z.boolean().optional(),
    reviewer: nameSchema.nullable().optional(),
    self_review: z.boolean().optional(),
    max_concurrency: z
      .number()
      .int()
      .min(1, { message: 'must be at least 1' })
      .nullable()
      .optional(),
    concurrency_group: nameSchema.nullable().optional(),
  })
  .strict();

/** The fields of a profile a person sets; policy overrides are checked separately. */
export const profileSpecSchema = profileFields
  .refine((p) => p.mode === 'pull' || (p.argv?.length ?? 0) > 0, {
    message: 'a profile needs a command: put it after -- (or add it with --pull)',
    path: ['argv'],
  })
  .superRefine((p, ctx) => {
    const misfit = worktreeMisfit(p);
    if (misfit !== null) ctx.addIssue({ code: 'custom', message: misfit, path: ['worktree'] });
  })
  .refine((p) => p.llm != null || !hasBudget(p.budget), {
    message: BUDGET_MISFIT,
    path: ['budget'],
  });

/** A new profile as any door receives it; the store validates it. */
export type ProfileSpec = z.input<typeof profileSpecSchema> & { policy?: PolicyOverrides };

/** An edit to a profile: any field of the spec, and policy keys to set or clear. */
export type ProfilePatch = Partial<Omit<ProfileSpec, 'llm' | 'budget'>> & {
  llm?: Partial<LlmSpec> | null;
  budget?: Partial<BudgetSpec>;
  clear_policy?: readonly string[];
  unset_env?: readonly string[];
};
/** Patch schema: every spec field optional; `llm` and `budget` are merged key by key. */
export const profilePatchSchema = profileFields
  .extend({
    llm: llmSpec.partial().nullable().optional(),
    budget: budgetSpec.partial().optional(),
  })
  .partial();

/** A profile's proxy settings after an edit, checked whole. */
export const llmSpecSchema = llmSpec;

/** The reason a pause or resume records when its person gives none: `paused by ana`. */
export function pauseNote(paused: boolean, who: string): string {
  return `${paused ? 'paused' : 'resumed'} by ${who}`;
}
