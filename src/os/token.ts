import type * as Crypto from 'node:crypto';

/**
 * node:crypto, loaded on first use: loading it costs a CLI command about as much as its SQLite
 * driver, and a command that only reads never makes or hashes a secret.
 */
function crypto(): typeof Crypto {
  return process.getBuiltinModule('node:crypto');
}

/**
 * Every secret warden hands out (admin and worker tokens, run tokens, host secrets, login codes
 * and sessions) is made and hashed here: only its SHA-256 is ever kept (SPEC §9), and a
 * secret is compared by looking its hash up in the store, never by comparing secrets.
 * Randomness enters the domain through this file, as time does through a `Clock`.
 */

/** A new secret: `PREFIX_` (when given) and `bytes` random bytes, URL-safe. */
export function newSecret(prefix: string | null, bytes = 32): string {
  const secret = crypto().randomBytes(bytes).toString('base64url');
  return prefix === null ? secret : `${prefix}_${secret}`;
}

/** A new admin or worker token (`wdn_`), or a host secret. */
export function newToken(): string {
  return newSecret('wdn');
}

/** A new run token (`wrun_`): secret, shown to its worker once. */
export function newRunToken(): string {
  return newSecret('wrun', 24);
}

/** How a secret is stored: its SHA-256 in hex, never the secret itself. */
export function hashToken(token: string): string {
  // The one-shot hash: half the time of a Hash object's update and digest (0.33 against 0.65
  // µs here), and a claim of 8 runs hashes 16 tokens.
  return crypto().hash('sha256', token, 'hex');
}
