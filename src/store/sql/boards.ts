import type { Actor } from '../../core/actor.js';
import { conflict, notFound } from '../../core/errors.js';
import { TASK_STATUSES } from '../../core/status.js';
import type { TaskStatus } from '../../core/status.js';
import type { BoardStats } from '../../core/task.js';
import type { Board, TokenInfo, TokenKind } from '../store.js';
import type { SqlDb } from './driver.js';
import { checkName } from '../../core/checks.js';
import { appendEvent } from './events.js';
import { toBoard, toToken } from './rows.js';
import type { BoardRow, TokenRow } from './rows.js';

/** One board, or `not_found` with a hint. */
export async function getBoard(db: SqlDb, name: string): Promise<Board> {
  const row = await db.get<BoardRow>('SELECT * FROM boards WHERE name = ?', [name]);
  if (!row) {
    throw notFound(`board '${name}' does not exist; add it with \`warden board add ${name}\``, {
      board: name,
    });
  }
  return toBoard(row);
}

/** Every board, by name. */
export async function listBoards(db: SqlDb): Promise<Board[]> {
  return (await db.all<BoardRow>('SELECT * FROM boards ORDER BY name')).map(toBoard);
}

/** Adds a board (see `Store.addBoard`). */
export async function addBoard(db: SqlDb, now: number, name: string, actor: Actor): Promise<Board> {
  checkName(name, 'board name');
  const exists = await db.get('SELECT name FROM boards WHERE name = ?', [name]);
  if (exists) throw conflict(`board '${name}' already exists`);
  await db.run('INSERT INTO boards (name, paused, created_at) VALUES (?, 0, ?)', [name, now]);
  await appendEvent(db, now, actor, { kind: 'board_added', board: name, payload: { board: name } });
  return getBoard(db, name);
}

/** Counts for `warden stats`. */
export async function boardStats(db: SqlDb, board: string): Promise<BoardStats> {
  await getBoard(db, board);
  const tasks = Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])) as Record<TaskStatus, number>;
  const byStatus = await db.all<{ status: TaskStatus; n: number }>(
    'SELECT status, COUNT(*) AS n FROM tasks WHERE board = ? GROUP BY status',
    [board],
  );
  for (const { status, n } of byStatus) tasks[status] = Number(n);
  const runs = { running: 0, ending: 0, ended: 0 };
  const byState = await db.all<{ state: keyof typeof runs; n: number }>(
    'SELECT state, COUNT(*) AS n FROM runs WHERE board = ? GROUP BY state',
    [board],
  );
  for (const { state, n } of byState) runs[state] = Number(n);
  const outcomes: Record<string, number> = {};
  const byOutcome = await db.all<{ outcome: string; n: number }>(
    'SELECT outcome, COUNT(*) AS n FROM runs WHERE board = ? AND outcome IS NOT NULL GROUP BY outcome',
    [board],
  );
  for (const { outcome, n } of byOutcome) outcomes[outcome] = Number(n);
  const events = await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM events WHERE board = ?', [
    board,
  ]);
  return { board, tasks, runs, outcomes, events: Number(events?.n ?? 0) };
}

/** Stores a token by its hash. */
export async function addToken(
  db: SqlDb,
  now: number,
  token: { name: string; kind: TokenKind; hash: string; profiles?: string[] },
  actor: Actor,
): Promise<TokenInfo> {
  const row = await db.get<TokenRow>(
    'INSERT INTO tokens (name, kind, hash, profiles, created_at) VALUES (?, ?, ?, ?, ?) RETURNING *',
    [token.name, token.kind, token.hash, JSON.stringify(token.profiles ?? []), now],
  );
  if (!row) throw new Error('token insert returned no row');
  await appendEvent(db, now, actor, {
    kind: 'token_created',
    payload: { name: token.name, kind: token.kind, profiles: token.profiles ?? [] },
  });
  return toToken(row);
}

/** The live token with this hash, or null. */
export async function findToken(db: SqlDb, hash: string): Promise<TokenInfo | null> {
  const row = await db.get<TokenRow>('SELECT * FROM tokens WHERE hash = ? AND revoked_at IS NULL', [
    hash,
  ]);
  return row ? toToken(row) : null;
}

/** Every live token, by name. */
export async function listTokens(db: SqlDb): Promise<TokenInfo[]> {
  return (
    await db.all<TokenRow>('SELECT * FROM tokens WHERE revoked_at IS NULL ORDER BY name, id')
  ).map(toToken);
}

/** Revokes every live token with this name; the last admin token cannot go. */
export async function revokeToken(
  db: SqlDb,
  now: number,
  name: string,
  actor: Actor,
): Promise<void> {
  const rows = await db.all<TokenRow>(
    'SELECT * FROM tokens WHERE name = ? AND revoked_at IS NULL',
    [name],
  );
  if (rows.length === 0) throw notFound(`no live token named '${name}'; see \`warden token list\``);
  if (actor.kind === 'person' && actor.name === name && rows.some((r) => r.kind === 'admin')) {
    throw conflict(`'${name}' is the token you are using; revoke it with another admin token`);
  }
  const admins = await db.get<{ n: number }>(
    "SELECT COUNT(*) AS n FROM tokens WHERE kind = 'admin' AND revoked_at IS NULL AND name <> ?",
    [name],
  );
  if (rows.some((r) => r.kind === 'admin') && Number(admins?.n ?? 0) === 0) {
    throw conflict(`'${name}' holds the last admin token; revoking it would lock everyone out`);
  }
  await db.run('UPDATE tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL', [
    now,
    name,
  ]);
  await appendEvent(db, now, actor, { kind: 'token_revoked', payload: { name } });
}

/** Pauses or resumes dispatch on a board; running work is left alone. */
export async function setBoardPaused(
  db: SqlDb,
  now: number,
  name: string,
  paused: boolean,
  actor: Actor,
): Promise<Board> {
  const board = await getBoard(db, name);
  if (board.paused === paused) return board;
  await db.run('UPDATE boards SET paused = ? WHERE name = ?', [paused ? 1 : 0, name]);
  await appendEvent(db, now, actor, {
    kind: paused ? 'board_paused' : 'board_resumed',
    board: name,
    payload: { board: name },
  });
  return getBoard(db, name);
}
