import type { Actor } from '../../core/actor.js';
import { conflict, invalid, notFound } from '../../core/errors.js';
import { worktreeMisfit } from '../../core/worktree.js';
import type { Profile, ProfilePatch, ProfileSpec } from '../../core/profile.js';
import { hiddenEnv } from '../../core/hidden-env.js';
import { BUDGET_MISFIT, NO_BUDGET, hasBudget } from '../../core/llm.js';
import type { LlmSpec } from '../../core/llm.js';
import { parsePolicyOverrides } from '../../core/policy.js';
import { checkName } from '../../core/checks.js';
import { inputSchemas } from './input-schemas.js';
import type { SqlDb } from './driver.js';
import { appendEvent } from './events.js';
import { toProfile } from './rows.js';
import type { ProfileRow, StoredProfileSpec } from './rows.js';
import { OPEN_STATUS_LIST } from './tasks.js';

async function profileRow(db: SqlDb, name: string): Promise<ProfileRow> {
  const row = await db.get<ProfileRow>('SELECT * FROM profiles WHERE name = ?', [name]);
  if (!row) {
    throw notFound(`profile '${name}' does not exist; see \`warden profile list\``, {
      profile: name,
    });
  }
  return row;
}

/** One profile, or `not_found`. */
export async function getProfile(db: SqlDb, name: string): Promise<Profile> {
  return toProfile(await profileRow(db, name));
}

/** Every profile, by name. */
export async function listProfiles(db: SqlDb): Promise<Profile[]> {
  const rows = await db.all<ProfileRow>('SELECT * FROM profiles ORDER BY name');
  return rows.map(toProfile);
}

function storedSpec(spec: ProfileSpec): StoredProfileSpec {
  return {
    mode: spec.mode ?? 'spawned',
    argv: spec.argv ?? [],
    env: spec.env ?? {},
    inherit_env: spec.inherit_env ?? [],
    cwd: spec.cwd ?? 'workspace',
    worktree: spec.worktree ?? null,
    setup: spec.setup ?? null,
    progress_from_workspace: spec.progress_from_workspace ?? null,
    llm: spec.llm ?? null,
    budget: { ...NO_BUDGET, ...spec.budget },
    require_approval: spec.require_approval ?? false,
    reviewer: spec.reviewer ?? null,
    self_review: spec.self_review ?? false,
    max_concurrency: spec.max_concurrency ?? null,
    concurrency_group: spec.concurrency_group ?? null,
    policy: spec.policy ?? {},
  };
}

async function saveVersion(
  db: SqlDb,
  now: number,
  name: string,
  version: number,
  spec: string,
): Promise<void> {
  await db.run(
    'INSERT INTO profile_versions (name, version, spec, created_at) VALUES (?, ?, ?, ?)',
    [name, version, spec, now],
  );
}

/** A reviewer is another profile that exists, or the profile itself with `self_review`. */
async function checkReviewer(
  db: SqlDb,
  name: string,
  spec: Pick<StoredProfileSpec, 'reviewer' | 'self_review'>,
): Promise<void> {
  if (spec.reviewer === null) return;
  if (spec.reviewer === name) {
    if (!spec.self_review) {
      throw invalid(
        `--reviewer: profile '${name}' would review its own work; name another profile, or give --self-review to allow it`,
      );
    }
    return;
  }
  const row = await db.get('SELECT name FROM profiles WHERE name = ?', [spec.reviewer]);
  if (!row) {
    throw notFound(
      `--reviewer: profile '${spec.reviewer}' does not exist; add it first with \`warden profile add ${spec.reviewer} ...\``,
      { profile: spec.reviewer },
    );
  }
}

/** The proxy settings after an edit: null clears them, a part is merged and checked whole. */
function mergedLlm(
  before: LlmSpec | null,
  patch: Partial<LlmSpec> | null | undefined,
  schemas: Awaited<ReturnType<typeof inputSchemas>>,
): LlmSpec | null {
  if (patch === undefined) return before;
  if (patch === null) return null;
  const merged = { max_concurrency: null, max_rate_limits: null, ...before, ...patch };
  if (merged.upstream === undefined || merged.kind === undefined) {
    throw invalid(
      'this profile has no model proxy yet; give --llm-upstream URL and --llm-kind KIND',
    );
  }
  return schemas.parseInput(schemas.llmSpec, merged, 'profile.llm');
}

/** Adds a profile at version 1 (see `Store.addProfile`). */
export async function addProfile(
  db: SqlDb,
  now: number,
  name: string,
  raw: ProfileSpec,
  actor: Actor,
): Promise<Profile> {
  checkName(name, 'profile name');
  const { policy, ...fields } = raw;
  const schemas = await inputSchemas();
  const spec = {
    ...schemas.parseInput(schemas.profileSpec, fields, 'profile'),
    policy: parsePolicyOverrides(policy, 'policy'),
  };
  const exists = await db.get('SELECT name FROM profiles WHERE name = ?', [name]);
  if (exists) {
    throw conflict(
      `profile '${name}' already exists; change it with \`warden profile edit ${name}\``,
    );
  }
  const stored = storedSpec(spec);
  await checkReviewer(db, name, stored);
  const text = JSON.stringify(stored);
  // A name can be reused after removal; its version history carries on.
  const prior = await db.get<{ v: number | null }>(
    'SELECT MAX(version) AS v FROM profile_versions WHERE name = ?',
    [name],
  );
  const version = Number(prior?.v ?? 0) + 1;
  await db.run(
    'INSERT INTO profiles (name, version, spec, paused, created_at, updated_at) VALUES (?, ?, ?, 0, ?, ?)',
    [name, version, text, now, now],
  );
  await saveVersion(db, now, name, version, text);
  await appendEvent(db, now, actor, {
    kind: 'profile_added',
    payload: { profile: name, version, spec: { ...stored, env: hiddenEnv(stored.env) } },
  });
  return getProfile(db, name);
}

/** Changes a profile and bumps its version (see `Store.editProfile`). */
export async function editProfile(
  db: SqlDb,
  now: number,
  name: string,
  raw: ProfilePatch,
  actor: Actor,
): Promise<Profile> {
  const { policy: rawPolicy, clear_policy, unset_env, ...fields } = raw;
  const schemas = await inputSchemas();
  const patch = {
    ...schemas.parseInput(schemas.profilePatch, fields, 'profile'),
    policy: parsePolicyOverrides(rawPolicy, 'policy'),
    clear_policy: clear_policy ?? [],
    unset_env: unset_env ?? [],
  };
  const row = await profileRow(db, name);
  const before = JSON.parse(row.spec) as StoredProfileSpec;
  const env = { ...before.env, ...(patch.env ?? {}) };
  for (const key of patch.unset_env) delete env[key];
  const policy: Record<string, unknown> = { ...before.policy };
  for (const key of patch.clear_policy) delete policy[key];
  Object.assign(policy, patch.policy);
  const after: StoredProfileSpec = {
    mode: patch.mode ?? before.mode ?? 'spawned',
    argv: patch.argv ?? before.argv,
    env,
    inherit_env: patch.inherit_env ?? before.inherit_env ?? [],
    cwd: patch.cwd ?? before.cwd,
    worktree: patch.worktree === undefined ? (before.worktree ?? null) : patch.worktree,
    setup: patch.setup === undefined ? (before.setup ?? null) : patch.setup,
    progress_from_workspace:
      patch.progress_from_workspace === undefined
        ? (before.progress_from_workspace ?? null)
        : patch.progress_from_workspace,
    llm: mergedLlm(before.llm ?? null, patch.llm, schemas),
    budget: { ...NO_BUDGET, ...before.budget, ...patch.budget },
    require_approval: patch.require_approval ?? before.require_approval ?? false,
    reviewer: patch.reviewer === undefined ? (before.reviewer ?? null) : patch.reviewer,
    self_review: patch.self_review ?? before.self_review ?? false,
    max_concurrency:
      patch.max_concurrency === undefined ? before.max_concurrency : patch.max_concurrency,
    concurrency_group:
      patch.concurrency_group === undefined ? before.concurrency_group : patch.concurrency_group,
    policy,
  };
  const misfit = worktreeMisfit(after);
  if (misfit !== null) throw invalid(`worktree: ${misfit}`);
  await checkReviewer(db, name, after);
  if (after.llm === null && hasBudget(after.budget)) throw invalid(BUDGET_MISFIT);
  const text = JSON.stringify(after);
  if (text === row.spec) return toProfile(row);
  const version = row.version + 1;
  await db.run('UPDATE profiles SET version = ?, spec = ?, updated_at = ? WHERE name = ?', [
    version,
    text,
    now,
    name,
  ]);
  await saveVersion(db, now, name, version, text);
  const changed = (Object.keys(after) as (keyof StoredProfileSpec)[]).filter(
    (k) => JSON.stringify(after[k]) !== JSON.stringify(before[k]),
  );
  await appendEvent(db, now, actor, {
    kind: 'profile_edited',
    payload: { profile: name, version, changed },
  });
  return getProfile(db, name);
}

/** Removes a profile unless open tasks use it (see `Store.removeProfile`). */
export async function removeProfile(
  db: SqlDb,
  now: number,
  name: string,
  actor: Actor,
): Promise<void> {
  const row = await profileRow(db, name);
  const users = await db.all<{ id: number }>(
    `SELECT id FROM tasks WHERE assignee = ? AND status IN (${OPEN_STATUS_LIST}) ORDER BY id LIMIT 6`,
    [name],
  );
  if (users.length > 0) {
    const ids = users
      .slice(0, 5)
      .map((u) => u.id)
      .join(', ');
    throw conflict(
      `profile '${name}' is assigned to open tasks (${ids}${users.length > 5 ? ', …' : ''}); reassign or archive them first`,
    );
  }
  await db.run('DELETE FROM profiles WHERE name = ?', [name]);
  await appendEvent(db, now, actor, {
    kind: 'profile_removed',
    payload: { profile: name, version: row.version },
  });
}

/** Pauses or resumes a profile (see `Store.setProfilePaused`). */
export async function setProfilePaused(
  db: SqlDb,
  now: number,
  name: string,
  paused: boolean,
  reason: string | null,
  actor: Actor,
): Promise<Profile> {
  const row = await profileRow(db, name);
  if ((row.paused !== 0) === paused) return toProfile(row);
  // A person's resume also closes the breaker and forgets its failure streak.
  await db.run(
    `UPDATE profiles SET paused = ?, paused_reason = ?, paused_by = ?, updated_at = ?
       ${paused ? '' : ", breaker_failures = 0, breaker_tasks = '[]', breaker_trips = 0, breaker_failed_probes = 0, breaker_probe_at = NULL, breaker_probe_run = NULL"}
     WHERE name = ?`,
    [paused ? 1 : 0, paused ? reason : null, paused ? 'person' : null, now, name],
  );
  await appendEvent(db, now, actor, {
    kind: paused ? 'profile_paused' : 'profile_resumed',
    payload: { profile: name, reason },
  });
  return getProfile(db, name);
}
