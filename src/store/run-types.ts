import type { EndingPhases } from '../core/ending.js';
import type { Outcome } from '../core/status.js';
import type { EpochMs, RunId } from '../core/glossary.js';
import type { WorkerContext } from '../core/worker-protocol.js';
import type { PolicyOverrides } from '../core/policy.js';
import type { Profile } from '../core/profile.js';
import type { ProcessIdentity, Run, RunReason } from '../core/run.js';
import type { Task } from '../core/task.js';
import type { RunEvidence } from '../core/worktree.js';
import type { BudgetUse, LlmState } from '../core/llm.js';

/** What a host asks for when it claims runs (SPEC §4: admission and claim in one transaction). */
export interface ClaimRequest {
  host: string;
  /** Most live runs on this host (`max_workers`). */
  maxWorkers: number;
  /** Claim at most this many now. */
  limit: number;
  /** The spawned run's environment and command come from the profile; pull runs name a worker. */
  mode: 'spawned' | 'pull';
  /** For pull runs: the worker holding the claim, and the profiles it serves. */
  workerId?: string;
  profiles?: readonly string[];
  /** For pull runs: the id the worker gave this claim, kept on its runs (`reissueClaim`). */
  claimId?: string;
  /**
   * Go straight to the admission turn, without first looking outside it whether anything
   * could be claimed: for a worker's own request, which usually finds work (it just finished
   * some), not for a wake-up, most of which find none. @default false
   */
  noLook?: boolean;
}

/** A run handed over again to the claim that made it (`reissueClaim`), with its new token (shown once). */
export interface ReissuedRun {
  runId: RunId;
  attempt: number;
  token: string;
}

/** A claimed run: the run row, its secret token (shown once), the task and the profile. */
export interface Claim {
  run: Run;
  token: string;
  task: Task;
  profile: Profile;
  /**
   * When the task became ready to start, as far as the store knows: its last change or the end
   * of its delay, whichever is later (for the dispatch latency of `/metrics`).
   */
  ready_at: EpochMs;
  /**
   * For pull runs: what the worker sees of its task, read in the claiming transaction
   * (SQLite) or just after it (PostgreSQL, outside the admission turn).
   */
  context?: WorkerContext;
}

/** Progress seen by the owning host since its last batch, per run. */
export interface ProgressUpdate {
  runId: RunId;
  last_progress_at?: EpochMs | null;
  last_output_at?: EpochMs | null;
  last_heartbeat_at?: EpochMs | null;
  /**
   * When the last `progress` call came (not output or model traffic, which `last_progress_at`
   * counts too): where a run's timeline puts its progress calls. Not kept on the run.
   */
  last_call_at?: EpochMs | null;
  output_bytes?: number;
  progress_count?: number;
  last_note?: string | null;
  /** What its model traffic is doing now (issue #13); undefined: unchanged, null: nothing. */
  llm_state?: LlmState | null;
  llm_state_since?: EpochMs | null;
}

/** How a run finally ended, as the host that ended it saw it. */
export interface RunFinal {
  outcome: Outcome;
  reason: RunReason;
  exit_code?: number | null;
  signal?: string | null;
  log_tail?: string | null;
  /** The final progress figures, written with the ending (SPEC §3: one write at every ending). */
  progress?: ProgressUpdate;
  /** What the phases of the ending did (spawned runs). */
  phases?: EndingPhases;
  /** What the run left in its git worktree (worktree workspaces). */
  evidence?: RunEvidence | null;
}

/** A `serve` host as the store knows it. */
export interface HostRecord {
  host_id: string;
  process: ProcessIdentity | null;
  url: string | null;
  started_at: EpochMs;
  renewed_at: EpochMs;
  stopped_at: EpochMs | null;
  /** When its lease lapses, on the store's clock (several hosts; null on SQLite). */
  lease_expires_at: EpochMs | null;
  /** Its `serve`'s cap on live workers, once its API listens (null before, or from older code). */
  max_workers: number | null;
}

/** Layers of policy the caller brings: the home's config file defaults. */
export interface PolicyContext {
  config: PolicyOverrides;
}

/** A pull worker's lease: one per worker process, for all its runs (SPEC §4). */
export interface LeaseInfo {
  id: string;
  token_id: number;
  /** What the worker calls itself (host and pid), for people reading the board. */
  name: string;
  profiles: string[];
  started_at: EpochMs;
  renewed_at: EpochMs;
  expires_at: EpochMs;
  ended_at: EpochMs | null;
  end_reason: string | null;
}

/** What the model proxy needs to let a request of a run through (issue #13). */
export interface LlmAdmission {
  run: Pick<Run, 'id' | 'task_id' | 'mode' | 'host_id' | 'profile'>;
  /** The run's profile as it is now (a raised budget counts at once); null if removed. */
  profile: Pick<Profile, 'name' | 'llm' | 'budget' | 'paused'> | null;
  use: BudgetUse;
}
