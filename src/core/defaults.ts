/**
 * Every default in one place (STYLE.md). Durations are milliseconds. Options are resolved
 * defaults → config file → environment → flags, and for worker policy: defaults → config
 * file → profile → task.
 */

/** Worker policy defaults (SPEC §3). */
export const POLICY_DEFAULTS = {
  /** Silence after which a `stall_warning` is written once; nothing is killed. */
  stall_warn_after: 10 * 60_000,
  /** Silence after which the run ends `stalled`. */
  stall_timeout: 60 * 60_000,
  /** Longest one attempt may run; `0` means unlimited. Past it: `timed_out`, task blocked. */
  max_runtime: 6 * 3_600_000,
  /** Time between SIGTERM and SIGKILL when a run is ended. */
  kill_grace: 30_000,
  /** Failed runs in a row before the task is blocked `gave_up`. */
  max_failures: 3,
  /** Runs lost with their host before the task is blocked. */
  max_host_losses: 5,
  /** Consecutive runs with zero progress before the task is blocked `stall_loop`. */
  stall_loop_limit: 2,
  /** First retry delay after a failure; it doubles per failure. */
  backoff_base: 60_000,
  /** Longest retry delay after a failure. */
  backoff_max: 15 * 60_000,
  /** What exit code 0 without a reported result means. */
  exit_zero: 'auto',
  /** First cooldown after exit 75 (rate limited); it doubles per rate-limited run. */
  rate_limit_cooldown: 60_000,
  /** Longest cooldown after exit 75. */
  rate_limit_cooldown_max: 15 * 60_000,
  /** Rate-limited runs in a row before the task is blocked `rate_limit_loop`. */
  max_rate_limited: 10,
  /** Spawn failures in a row before the task is blocked with the spawn error. */
  max_spawn_failures: 3,
  /** Tasks one task's workers may create, over all its runs (issue #14). */
  max_children: 50,
  /** Requests for changes of one task's reviews before it is blocked for a person. */
  max_review_rounds: 3,
  /** How long a `transient` block lasts before it clears itself (counted as a failure). */
  transient_cooldown: 5 * 60_000,
  /** Failed runs in a row of one profile, over at least 2 tasks, that pause the profile. */
  profile_breaker: 5,
  /** After `complete`, how long the worker has to exit before it is ended. */
  exit_after_complete: 30_000,
  /**
   * Most bytes one run's log keeps (SPEC §7: 100 MiB): past it the middle is cut, keeping
   * the start and the latest output (src/supervisor/log-cap.ts).
   */
  log_cap: 100 * 1024 * 1024,
} as const;

/** Run logs and their cap (issue #11). */
export const LOG_DEFAULTS = {
  /** The smallest `log_cap` accepted: a quarter of it is kept from the start, a quarter at the end. */
  min_cap: 64 * 1024,
} as const;

/** `warden gc` and `serve --gc-every` (issue #11). */
export const GC_DEFAULTS = {
  /** How long a task stays done or archived before `serve --gc-every` prunes its history. */
  older_than_ms: 30 * 86_400_000,
  /** Run folders and workspaces looked up in the store at once. */
  batch: 500,
} as const;

/** The profile breaker's probe schedule (SPEC §3). */
export const BREAKER_DEFAULTS = {
  /** Wait before the first probe run after the breaker opens; it doubles per trip. */
  first_probe_after: 10 * 60_000,
  /** Longest wait between probes. */
  max_probe_after: 60 * 60_000,
  /** Failed probes after which the profile waits for a person. */
  max_failed_probes: 3,
  /** Distinct tasks a failure streak must span before it counts against the profile. */
  min_tasks: 2,
} as const;

/** Limits on what people and workers may store. */
export const INPUT_LIMITS = {
  title_max_chars: 200,
  body_max_bytes: 64 * 1024,
  comment_max_bytes: 16 * 1024,
  metadata_max_bytes: 64 * 1024,
  summary_max_bytes: 16 * 1024,
  block_reason_max_chars: 2000,
  priority_min: -1000,
  priority_max: 1000,
  name_max_chars: 64,
  argv_max_items: 256,
  env_max_items: 128,
  list_max: 10_000,
  /** An idempotency key (`create --idempotency-key`, a task of `warden apply`). */
  idempotency_key_max_chars: 200,
  /** Tasks in one `warden apply` graph. */
  apply_max_tasks: 500,
  /** The size of a `warden apply` file. */
  apply_max_bytes: 4 * 1024 * 1024,
  /** Arrays and objects inside one another in a JSON body or value (metadata, policy). */
  json_max_depth: 64,
} as const;

/** Defaults of a `warden serve` host. */
export const HOST_DEFAULTS = {
  port: 7420,
  bind: '127.0.0.1',
  max_workers: 4,
  tick: 1000,
} as const;

/** Several hosts on one PostgreSQL (SPEC §3). */
export const HOST_LEASE_DEFAULTS = {
  /** How long a host's lease lasts without a renewal. */
  ttl_ms: 30_000,
  /** The shortest TTL accepted: workers must be frozen well before the lease lapses. */
  min_ttl_ms: 2_000,
} as const;

/** Defaults of the PostgreSQL store. */
export const POSTGRES_DEFAULTS = {
  /** Connections in the pool. */
  pool_max: 8,
  /** How long a new connection may take before the server is reported unreachable. */
  connect_timeout_ms: 5000,
  /**
   * How long a connection busy in a transaction may hear nothing from the server before the
   * server is asked, on a new connection, whether it is dead (a connection cut off without a
   * word waits about 15 minutes for the kernel otherwise). Well inside a host lease's 25 s
   * before freezing, so a renewal on a dead connection fails and the next one, on a new
   * connection, comes in time.
   */
  answer_quiet_ms: 3000,
  /**
   * How long the server lets a session sit idle inside a transaction before ending it:
   * warden's transactions never wait on anything but the database, so only a paused, hung or
   * cut-off host gets there, and its locks must not hold every other host up for longer.
   */
  idle_in_transaction_ms: 5000,
  /** How often a transaction is retried on a serialisation failure or a deadlock. */
  retries: 12,
  /** How long a dropped LISTEN connection waits before it connects again. */
  relisten_ms: 500,
  /** How often the LISTEN connection is asked `SELECT 1`, to find it if it was cut off. */
  listen_check_ms: 10_000,
  /** How long that `SELECT 1` may take before the LISTEN connection is taken for cut off. */
  listen_answer_ms: 5000,
  /**
   * Most transactions of one line (SERIALIZABLE writes, or claims under the admission turn)
   * that share one transaction when they queued behind another; the rest wait for the next.
   */
  group_max_members: 32,
} as const;

/** Defaults of the stores. */
export const STORE_DEFAULTS = {
  /**
   * PostgreSQL: most claims made in one transaction when they waited for the admission turn
   * together (one read, one statement making every run); the rest go in the next.
   */
  claim_batch_max: 32,
  /**
   * PostgreSQL: most workers' reports made in one transaction when they arrived together (one
   * read of their runs, one statement closing them); the rest go in the next.
   */
  report_batch_max: 32,
} as const;

/** Defaults of the SQLite store. */
export const SQLITE_DEFAULTS = {
  /** How long one statement waits on a lock inside SQLite before it reports busy. */
  busy_timeout_ms: 5000,
  /** How often a busy transaction is retried, with jitter, before the error surfaces. */
  busy_retries: 8,
  /**
   * Most transactions of one process that share a COMMIT, so one fsync (group commit; the
   * rest wait for the next group).
   */
  group_max_members: 64,
  /**
   * Milliseconds from a group's BEGIN after which no more transactions join it, so the write
   * lock, which other processes wait on, is never held long.
   */
  group_max_ms: 4,
} as const;

/** The home directory when `WARDEN_HOME` is unset, relative to the user's home. */
export const DEFAULT_HOME_DIR = '.warden';

/** Timings of the ending phases (SPEC §3 "Ending a run is one function"). */
export const ENDING_TIMINGS = {
  /** How long SIGKILL may take before the group is reported `kill_failed` and held. */
  kill_verify_ms: 2000,
  /** How often an ending run is looked at between ticks, to notice a death quickly. */
  poll_ms: 25,
  /**
   * How long a stop waits for a run to be closed: the grace, the kill and the verification,
   * or another host's next look at a run fenced from here.
   */
  stop_wait_ms: 5 * 60_000,
  /** A pull run's stop waits for its worker's lease to lapse plus this margin. */
  pull_stop_margin_ms: 5000,
} as const;

/** Timings of one host's supervision of its runs. */
export const SUPERVISOR_DEFAULTS = {
  /** How often progress is written to the store (SPEC §3: every 15 s and at every ending). */
  progress_flush_ms: 15_000,
  /** A wall-clock jump this much past the monotonic clock is a suspend of the machine. */
  resume_threshold_ms: 5000,
  /** How often the home's run cgroups that no run uses are looked for and removed. */
  cgroup_sweep_ms: 60_000,
  /** A run cgroup younger than this is left alone by that sweep: a start may be joining it. */
  cgroup_sweep_min_age_ms: 60_000,
  /**
   * The longest a tick waits for its looks at the runs: a look that takes longer (an ending
   * gathering its evidence in a slow repository, up to 30 s) goes on behind the next ticks,
   * which look at every other run meanwhile.
   */
  tick_wait_ms: 2000,
} as const;

/** Pull workers (SPEC §4). */
export const PULL_DEFAULTS = {
  /** How long a pull worker's lease lasts without a renewal. */
  lease_ttl_ms: 30_000,
  /** The longest a long-poll claim waits for work. */
  max_wait_ms: 30_000,
  /** The most runs one claim takes, and the most results it carries. */
  max_claim: 64,
  /** How often `serve` notes that it runs, to see the spans in which it did not. */
  beat_every_ms: 250,
  /**
   * A gap this long between those notes is an absence of `serve` (the machine suspended, the
   * process stopped, its event loop held): no lease lapses and no pull run falls silent by it.
   * Four beats, so a late timer is never taken for one.
   */
  absence_ms: 1000,
} as const;

/** The dashboard's logins. */
export const LOGIN_DEFAULTS = {
  /** How long a one-time login code from `warden open` stays valid. */
  code_ttl_ms: 5 * 60_000,
  /** How long a dashboard session lasts. */
  session_ttl_ms: 12 * 3_600_000,
} as const;

/** Defaults of the clients: the SDK, the MCP server and `warden worker`. */
export const CLIENT_DEFAULTS = {
  /** How long a person's call retries while `serve` does not answer. */
  retry_for_ms: 30_000,
  /** How long a worker's result (complete, fail, ...) is retried: it must not be lost. */
  report_retry_for_ms: 10 * 60_000,
  /** How often a pull worker renews its lease until `serve` says otherwise. */
  renew_every_ms: 10_000,
  /** How long one long-poll claim of a pull worker waits for work. */
  claim_wait_ms: 20_000,
  /** How long one long-poll claim is retried. */
  claim_retry_for_ms: 60_000,
  /** How long a pull worker waits for its lease to close as it stops. */
  close_retry_for_ms: 5000,
} as const;

/** Schedules (issue #14). */
export const SCHEDULE_DEFAULTS = {
  /** The zone a cron expression is read in unless `--tz` names another. */
  tz: 'UTC',
  /** What happens to firings missed while no `serve` ran. */
  catch_up: 'skip',
  /**
   * A firing made this long after its time was missed, not late: `serve` ticks every second or
   * so, and a restart takes seconds, while a host down for longer missed it.
   */
  late_after_ms: 60_000,
  /** Missed firings counted one by one at most; past it the event says "or more". */
  count_max: 1000,
} as const;
