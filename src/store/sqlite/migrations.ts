/**
 * Numbered SQLite migrations. Append only: a released migration is never edited. The
 * schema version is the number of the last one applied.
 */
export const SQLITE_MIGRATIONS: readonly { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
CREATE TABLE boards (
  name TEXT PRIMARY KEY,
  paused INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
);
CREATE TABLE profiles (
  name TEXT PRIMARY KEY,
  version INTEGER NOT NULL,
  spec TEXT NOT NULL,
  paused INTEGER NOT NULL DEFAULT 0,
  paused_reason TEXT,
  paused_by TEXT,
  breaker_failures INTEGER NOT NULL DEFAULT 0,
  breaker_tasks TEXT NOT NULL DEFAULT '[]',
  breaker_trips INTEGER NOT NULL DEFAULT 0,
  breaker_failed_probes INTEGER NOT NULL DEFAULT 0,
  breaker_probe_at INTEGER,
  breaker_probe_run INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE concurrency_groups (
  name TEXT PRIMARY KEY,
  max_concurrency INTEGER,
  scope TEXT NOT NULL DEFAULT 'board',
  not_before INTEGER,
  updated_at INTEGER NOT NULL
);
CREATE TABLE profile_versions (
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  spec TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (name, version)
);
CREATE TABLE tasks (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  board TEXT NOT NULL REFERENCES boards(name),
  title TEXT NOT NULL,
  body TEXT NOT NULL DEFAULT '',
  assignee TEXT,
  priority INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL,
  not_before INTEGER,
  attempts INTEGER NOT NULL DEFAULT 0,
  failures INTEGER NOT NULL DEFAULT 0,
  stall_streak INTEGER NOT NULL DEFAULT 0,
  rate_limited_streak INTEGER NOT NULL DEFAULT 0,
  spawn_failures INTEGER NOT NULL DEFAULT 0,
  host_losses INTEGER NOT NULL DEFAULT 0,
  result_summary TEXT,
  result_metadata TEXT,
  block_reason TEXT,
  block_kind TEXT,
  block_rule TEXT,
  policy TEXT NOT NULL DEFAULT '{}',
  current_run_id INTEGER,
  created_by TEXT NOT NULL,
  created_by_task INTEGER REFERENCES tasks(id),
  idempotency_key TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX tasks_board_status ON tasks (board, status, priority DESC, id);
CREATE INDEX tasks_created_by_task ON tasks (created_by_task);
CREATE INDEX tasks_assignee ON tasks (assignee, status);
CREATE UNIQUE INDEX tasks_open_idempotency ON tasks (board, idempotency_key)
  WHERE idempotency_key IS NOT NULL AND status NOT IN ('done', 'archived');
CREATE TABLE task_links (
  parent_id INTEGER NOT NULL REFERENCES tasks(id),
  child_id INTEGER NOT NULL REFERENCES tasks(id),
  created_at INTEGER NOT NULL,
  PRIMARY KEY (parent_id, child_id)
);
CREATE INDEX task_links_child ON task_links (child_id);
CREATE TABLE comments (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  task_id INTEGER NOT NULL REFERENCES tasks(id),
  actor TEXT NOT NULL,
  body TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX comments_task ON comments (task_id, id);
CREATE TABLE runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  task_id INTEGER NOT NULL REFERENCES tasks(id),
  board TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  state TEXT NOT NULL,
  mode TEXT NOT NULL,
  token_hash TEXT NOT NULL,
  host_id TEXT,
  worker_id TEXT,
  profile TEXT,
  profile_version INTEGER,
  argv TEXT NOT NULL DEFAULT '[]',
  env TEXT NOT NULL DEFAULT '{}',
  cwd TEXT,
  boot_id TEXT,
  pid INTEGER,
  proc_start_time TEXT,
  log_path TEXT,
  started_at INTEGER NOT NULL,
  ending_at INTEGER,
  ended_at INTEGER,
  last_heartbeat_at INTEGER,
  last_progress_at INTEGER,
  last_output_at INTEGER,
  progress_count INTEGER NOT NULL DEFAULT 0,
  output_bytes INTEGER NOT NULL DEFAULT 0,
  last_note TEXT,
  used_protocol INTEGER NOT NULL DEFAULT 0,
  stall_warned_at INTEGER,
  outcome TEXT,
  reason TEXT,
  exit_code INTEGER,
  signal TEXT,
  log_tail TEXT,
  result_summary TEXT,
  result_metadata TEXT,
  terminal_request TEXT,
  terminal_response TEXT,
  UNIQUE (task_id, attempt)
);
CREATE INDEX runs_open ON runs (state) WHERE state <> 'ended';
CREATE UNIQUE INDEX runs_token ON runs (token_hash);
CREATE TABLE hosts (
  host_id TEXT PRIMARY KEY,
  pid INTEGER,
  boot_id TEXT,
  proc_start_time TEXT,
  url TEXT,
  secret_hash TEXT,
  started_at INTEGER NOT NULL,
  renewed_at INTEGER NOT NULL,
  stopped_at INTEGER
);
CREATE TABLE events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  board TEXT,
  task_id INTEGER,
  run_id INTEGER,
  actor TEXT NOT NULL,
  kind TEXT NOT NULL,
  payload TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX events_task ON events (task_id, id);
CREATE INDEX events_board ON events (board, id);
CREATE TABLE tokens (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  profiles TEXT NOT NULL DEFAULT '[]',
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
);
`,
  },
  {
    version: 2,
    sql: `
CREATE TABLE worker_leases (
  id TEXT PRIMARY KEY,
  token_id INTEGER NOT NULL REFERENCES tokens(id),
  name TEXT NOT NULL,
  profiles TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  renewed_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  ended_at INTEGER,
  end_reason TEXT
);
CREATE INDEX worker_leases_open ON worker_leases (expires_at) WHERE ended_at IS NULL;
CREATE INDEX runs_worker ON runs (worker_id) WHERE worker_id IS NOT NULL;
`,
  },
  {
    version: 3,
    sql: `
CREATE TABLE web_sessions (
  hash TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  token_id INTEGER NOT NULL REFERENCES tokens(id),
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER
);
CREATE INDEX tasks_board_title ON tasks (board, title);
`,
  },
  {
    version: 4,
    sql: `
-- A host's lease, measured on the store's clock (SPEC §3 "Several hosts").
ALTER TABLE hosts ADD COLUMN lease_expires_at INTEGER;
`,
  },
  {
    version: 5,
    sql: `
-- What a person asked for when they stopped a run, kept apart from its reason (SPEC §3).
ALTER TABLE runs ADD COLUMN stop_intent TEXT;
-- Runs a person's stop fenced before this version kept the intent in the reason's extra.
UPDATE runs SET stop_intent = json_object(
    'requeue', json(CASE WHEN json_extract(reason, '$.extra.requeue') THEN 'true' ELSE 'false' END),
    'archive', json(CASE WHEN json_extract(reason, '$.extra.archive') THEN 'true' ELSE 'false' END),
    'now', json(CASE WHEN json_extract(reason, '$.extra.now') THEN 'true' ELSE 'false' END))
  WHERE state = 'ending' AND json_extract(reason, '$.rule') = 'stopped_by';
UPDATE runs SET stop_intent = json_set(stop_intent, '$.reassign', json_extract(reason, '$.extra.reassign'))
  WHERE stop_intent IS NOT NULL AND json_type(reason, '$.extra.reassign') IN ('text', 'null');
UPDATE runs SET stop_intent = json_set(stop_intent, '$.kind', json_extract(reason, '$.extra.block_kind'))
  WHERE stop_intent IS NOT NULL AND json_type(reason, '$.extra.block_kind') = 'text';
`,
  },
  {
    version: 6,
    sql: `
-- Issue #12: a task's git worktree, made by one host at the task's first claim and kept
-- across its attempts. One per task (the unique index), and only that host touches it.
CREATE TABLE worktrees (
  task_id INTEGER NOT NULL REFERENCES tasks(id),
  host_id TEXT NOT NULL,
  repo TEXT NOT NULL,
  path TEXT NOT NULL,
  branch TEXT NOT NULL,
  base_sha TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  removed_at INTEGER
);
CREATE UNIQUE INDEX worktrees_task ON worktrees (task_id);
CREATE INDEX worktrees_host ON worktrees (host_id) WHERE removed_at IS NULL;
-- What a run left in its worktree, recorded at its ending (JSON, src/core/worktree.ts).
ALTER TABLE runs ADD COLUMN evidence TEXT;
`,
  },
  {
    version: 7,
    sql: `
-- Issue #13: model traffic through the proxy. One row per request; each run and task keeps
-- its totals beside it, so budgets and cards read one row, not a sum.
CREATE TABLE llm_requests (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id INTEGER NOT NULL REFERENCES runs(id),
  task_id INTEGER NOT NULL REFERENCES tasks(id),
  board TEXT NOT NULL,
  profile TEXT,
  model TEXT,
  status INTEGER,
  started_at INTEGER NOT NULL,
  ended_at INTEGER NOT NULL,
  queued_ms INTEGER NOT NULL DEFAULT 0,
  input_tokens INTEGER NOT NULL DEFAULT 0,
  output_tokens INTEGER NOT NULL DEFAULT 0,
  cache_read_tokens INTEGER NOT NULL DEFAULT 0,
  cache_write_tokens INTEGER NOT NULL DEFAULT 0,
  cost_usd REAL,
  error TEXT
);
CREATE INDEX llm_requests_run ON llm_requests (run_id, id);
CREATE INDEX llm_requests_profile ON llm_requests (profile, started_at);
CREATE INDEX llm_requests_board ON llm_requests (board, started_at);
ALTER TABLE runs ADD COLUMN llm_requests INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN llm_input_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN llm_output_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN llm_cache_read_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN llm_cache_write_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN llm_cost_usd REAL NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN llm_unpriced INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN llm_rate_limits INTEGER NOT NULL DEFAULT 0;
-- Requests that failed (upstream down, garbage, cut off), and the last one's error.
ALTER TABLE runs ADD COLUMN llm_errors INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN llm_last_error TEXT;
-- What the run's model traffic is doing now (queued, waiting, streaming), with the progress batch.
ALTER TABLE runs ADD COLUMN llm_state TEXT;
ALTER TABLE runs ADD COLUMN llm_state_since INTEGER;
ALTER TABLE tasks ADD COLUMN llm_requests INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN llm_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN llm_cost_usd REAL NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN llm_unpriced INTEGER NOT NULL DEFAULT 0;
`,
  },
  {
    version: 8,
    sql: `
-- Issue #14: schedules, each a cron expression and a task template. A firing advances next_at
-- by compare-and-set in the transaction that creates its task, so with several hosts one
-- firing makes one task. next_at is NULL when the expression has no later time.
CREATE TABLE schedules (
  name TEXT PRIMARY KEY,
  board TEXT NOT NULL REFERENCES boards(name),
  cron TEXT NOT NULL,
  tz TEXT NOT NULL DEFAULT 'UTC',
  catch_up TEXT NOT NULL DEFAULT 'skip',
  template TEXT NOT NULL,
  paused INTEGER NOT NULL DEFAULT 0,
  next_at INTEGER,
  last_fired_at INTEGER,
  last_task_id INTEGER,
  fired INTEGER NOT NULL DEFAULT 0,
  skipped INTEGER NOT NULL DEFAULT 0,
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX schedules_due ON schedules (next_at) WHERE paused = 0;
`,
  },
  {
    version: 9,
    sql: `
-- Issue #14: typed blocks. Blocks the system made when it gave up were needs_input, the kind
-- of a real question; they are failed now, and a spent budget's is budget.
UPDATE tasks SET block_kind = 'failed' WHERE status = 'blocked' AND block_rule IN
  ('gave_up', 'stall_loop', 'spawn_failed', 'config_error', 'timed_out', 'rate_limit_loop', 'host_losses');
UPDATE tasks SET block_kind = 'budget' WHERE status = 'blocked' AND block_rule = 'budget';
-- Transient blocks clear themselves once not_before passes: found without a scan.
CREATE INDEX tasks_transient ON tasks (not_before) WHERE status = 'blocked' AND block_kind = 'transient';
-- A worker's questions and a person's answers.
CREATE TABLE questions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  task_id INTEGER NOT NULL REFERENCES tasks(id),
  run_id INTEGER NOT NULL REFERENCES runs(id),
  question TEXT NOT NULL,
  asked_at INTEGER NOT NULL,
  answer TEXT,
  answered_by TEXT,
  answered_at INTEGER
);
CREATE INDEX questions_task ON questions (task_id, id);
-- Approval gates: a task that needs one waits for a person's approve.
ALTER TABLE tasks ADD COLUMN needs_approval INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN approved_by TEXT;
ALTER TABLE tasks ADD COLUMN approved_at INTEGER;
-- Reviews: a person's (or reviewer's) verdict on a task in review, read by its next attempt.
CREATE TABLE reviews (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  task_id INTEGER NOT NULL REFERENCES tasks(id),
  run_id INTEGER,
  verdict TEXT NOT NULL,
  body TEXT NOT NULL,
  by_actor TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX reviews_task ON reviews (task_id, id);
`,
  },
  {
    version: 10,
    sql: `
-- Issue #14: review runs. A task whose profile names a reviewer waits in review for a run of
-- that profile (review_by); a run is the task's work or a review of it (role).
ALTER TABLE tasks ADD COLUMN review_by TEXT;
ALTER TABLE runs ADD COLUMN role TEXT NOT NULL DEFAULT 'work';
`,
  },
  {
    version: 11,
    sql: `
-- Issue #15: webhook subscriptions. Each reads the events table as its outbox from its own
-- cursor (cursor_tx: PostgreSQL's writing transaction of the last event passed, as text).
CREATE TABLE notify_subscriptions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  url TEXT NOT NULL,
  kinds TEXT NOT NULL,
  format TEXT NOT NULL,
  board TEXT,
  task_id INTEGER,
  secret TEXT,
  cursor_id INTEGER NOT NULL,
  cursor_tx TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at INTEGER,
  last_error TEXT,
  lease_owner TEXT,
  lease_until INTEGER,
  delivered INTEGER NOT NULL DEFAULT 0,
  failed INTEGER NOT NULL DEFAULT 0,
  dead INTEGER NOT NULL DEFAULT 0,
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
-- Notifications that used up their attempts, kept to be seen.
CREATE TABLE notify_dead_letters (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  subscription_id INTEGER NOT NULL REFERENCES notify_subscriptions(id) ON DELETE CASCADE,
  event_id INTEGER NOT NULL,
  kind TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  error TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX notify_dead_letters_subscription ON notify_dead_letters (subscription_id, id);
`,
  },
  {
    version: 12,
    sql: `
-- Issue #15: a run's timeline. What a run's worker did between two progress batches of its
-- host (output bytes, progress calls, the last note), one row per run per batch that saw any:
-- written with the batch it rides on, never per chunk of output or per call.
CREATE TABLE run_activity (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id INTEGER NOT NULL REFERENCES runs(id),
  at INTEGER NOT NULL,
  output_bytes INTEGER NOT NULL DEFAULT 0,
  progress_calls INTEGER NOT NULL DEFAULT 0,
  last_output_at INTEGER,
  last_progress_at INTEGER,
  note TEXT
);
CREATE INDEX run_activity_run ON run_activity (run_id, id);
`,
  },
  {
    version: 14,
    sql: `
-- Issue #16: reads of a board of 100,000 tasks and a million events without a whole-table scan.
-- The task list with no status filter (every open task, or a search) walks the board in its
-- order and stops at the page's end, instead of sorting every task of the board. Partial, so
-- only that filter (status <> 'archived') can use it: a count by status keeps the covering
-- tasks_board_status whatever the planner's statistics say (warden runs no ANALYZE).
CREATE INDEX tasks_board_order ON tasks (board, priority DESC, id) WHERE status <> 'archived';
-- The dashboard's health panel reads a board's newest events of one kind (kill_failed). Kind
-- first, so a read of a board's events never takes it for (board, id) and sorts them all.
CREATE INDEX events_kind_board ON events (kind, board, id);
-- ... and the runs of a board that ended in the last hour.
CREATE INDEX runs_board_ended ON runs (board, ended_at);
`,
  },
  {
    version: 15,
    sql: `
-- Issue #16: a claim reads its candidates in dispatch order and stops at its window, instead
-- of reading every ready task and sorting them. One index per column of the board a claimer
-- reads (ready work, and work waiting for its reviewer).
CREATE INDEX tasks_ready ON tasks (priority DESC, id) WHERE status = 'ready';
CREATE INDEX tasks_in_review ON tasks (priority DESC, id) WHERE status = 'review';
`,
  },
  {
    version: 16,
    sql: `
-- The claim a pull run was made by: the id its worker gave the claim (POST /pull/claim
-- \`claim_id\`). A retry of that claim whose answer was lost, reaching a \`serve\` that does not
-- know the answer (it restarted since, or the retry went to another host), gets these runs
-- again, with new tokens, instead of new runs while these wait for a worker that never heard
-- of them.
ALTER TABLE runs ADD COLUMN claim_id TEXT;
`,
  },
  {
    version: 17,
    sql: `
-- The most live workers a host's \`serve\` runs (\`--max-workers\`, or the config's), recorded at
-- its start so \`warden doctor\` judges the host cap by the running \`serve\`, not by the config
-- file it reads itself. Null for a host started before this column.
ALTER TABLE hosts ADD COLUMN max_workers INTEGER;
`,
  },
  {
    version: 18,
    sql: `
-- Review rounds count from the last time a person put the task back in line (\`unblock\`,
-- \`retry\`): the id of the task's newest review then. Before, a task blocked at
-- \`max_review_rounds\` and unblocked was blocked again by the next request for changes.
ALTER TABLE tasks ADD COLUMN review_rounds_from INTEGER NOT NULL DEFAULT 0;
`,
  },
  {
    version: 19,
    sql: `
-- A subscription made without --events holds every kind there was, by name: it gets the new
-- \`profile_paused\` too, as it would if made now (and a \`notify add\` of it again finds it).
UPDATE notify_subscriptions SET kinds = '["completed","review_requested","needs_input","question","stall_loop","gave_up","budget","stalled","host_lost","profile_paused"]'
  WHERE kinds = '["completed","review_requested","needs_input","question","stall_loop","gave_up","budget","stalled","host_lost"]';
`,
  },
];
