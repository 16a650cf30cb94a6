import { WardenError } from '../../core/errors.js';
import type { TokenInfo } from '../store.js';
import type { SqlDb } from './driver.js';
import { toToken } from './rows.js';
import type { TokenRow } from './rows.js';

interface SessionRow {
  hash: string;
  kind: string;
  token_id: number;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

/** Stores a one-time login code (by its hash) for the holder of an admin token. */
export async function createLoginCode(
  db: SqlDb,
  now: number,
  tokenId: number,
  hash: string,
  ttlMs: number,
): Promise<void> {
  await db.run(
    "INSERT INTO web_sessions (hash, kind, token_id, created_at, expires_at) VALUES (?, 'code', ?, ?, ?)",
    [hash, tokenId, now, now + ttlMs],
  );
}

async function liveToken(db: SqlDb, tokenId: number): Promise<TokenInfo | null> {
  const row = await db.get<TokenRow>('SELECT * FROM tokens WHERE id = ? AND revoked_at IS NULL', [
    tokenId,
  ]);
  return row ? toToken(row) : null;
}

/**
 * Exchanges a one-time login code for a session: the code works once, before it expires, and
 * only while its token is live.
 */
export async function exchangeLoginCode(
  db: SqlDb,
  now: number,
  codeHash: string,
  sessionHash: string,
  sessionTtlMs: number,
): Promise<TokenInfo> {
  const code = await db.get<SessionRow>(
    "SELECT * FROM web_sessions WHERE hash = ? AND kind = 'code'",
    [codeHash],
  );
  const refuse = (why: string): never => {
    throw new WardenError(
      'unauthorized',
      `this login link ${why}; run \`warden open\` for a new one`,
    );
  };
  if (!code) return refuse('is not valid');
  if (code.used_at !== null) return refuse('was already used');
  if (code.expires_at <= now) return refuse('has expired');
  const token = await liveToken(db, code.token_id);
  if (!token) return refuse('belongs to a revoked token');
  await db.run('UPDATE web_sessions SET used_at = ? WHERE hash = ?', [now, codeHash]);
  await db.run(
    "INSERT INTO web_sessions (hash, kind, token_id, created_at, expires_at) VALUES (?, 'session', ?, ?, ?)",
    [sessionHash, code.token_id, now, now + sessionTtlMs],
  );
  return token;
}

/** The token behind a live session cookie, or null. */
export async function findSession(db: SqlDb, now: number, hash: string): Promise<TokenInfo | null> {
  const row = await db.get<SessionRow>(
    "SELECT * FROM web_sessions WHERE hash = ? AND kind = 'session' AND expires_at > ?",
    [hash, now],
  );
  return row ? liveToken(db, row.token_id) : null;
}

/** Ends a session (log out). */
export async function endSession(db: SqlDb, hash: string): Promise<void> {
  await db.run("DELETE FROM web_sessions WHERE hash = ? AND kind = 'session'", [hash]);
}
