/**
 * The error family. Every failure a user can cause carries a stable `code`, mapped once to
 * an HTTP status and once to a CLI exit code, and a message that says what was wrong and
 * what to do.
 */
export const ErrorCode = {
  /** The input is malformed or out of range. */
  invalid: 'invalid',
  /** A named thing (task, profile, board, run) does not exist. */
  not_found: 'not_found',
  /** The request clashes with what is stored (a cycle, a duplicate name, a profile in use). */
  conflict: 'conflict',
  /** The transition table or a run state forbids this now. */
  illegal_state: 'illegal_state',
  /** A worker wrote with the token of a run that is no longer the task's current run. */
  stale_run: 'stale_run',
  /** The caller is not authenticated. */
  unauthorized: 'unauthorized',
  /** The caller is known but may not do this (a worker acting beyond its own task). */
  forbidden: 'forbidden',
  /** The warden home or the store cannot be used as it is. */
  setup: 'setup',
  /** A request body that is not UTF-8 JSON by its `Content-Type` (HTTP 415). */
  unsupported_media_type: 'unsupported_media_type',
  /** The store did not answer: SQLite locked past the busy timeout, PostgreSQL unreachable. */
  unavailable: 'unavailable',
  /** The storage refuses writes: the disk is full, the home is read-only, an I/O error. */
  storage: 'storage',
  /** The database file fails a check: empty, not SQLite, or corrupt. Nothing is written to it. */
  corrupt: 'corrupt',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * CLI exit codes: 0 ok, 1 error, 2 usage, 3 not found, 4 conflict or stale; storage: 5 the
 * store did not answer (try again), 6 the storage refuses writes (free space or make it
 * writable), 7 the database is corrupt (restore a backup).
 */
export const ExitCode = {
  ok: 0,
  error: 1,
  usage: 2,
  not_found: 3,
  conflict: 4,
  unavailable: 5,
  storage: 6,
  corrupt: 7,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

const exitCodes: Record<ErrorCode, ExitCode> = {
  invalid: ExitCode.usage,
  not_found: ExitCode.not_found,
  conflict: ExitCode.conflict,
  illegal_state: ExitCode.conflict,
  stale_run: ExitCode.conflict,
  unauthorized: ExitCode.error,
  forbidden: ExitCode.error,
  setup: ExitCode.error,
  unsupported_media_type: ExitCode.usage,
  unavailable: ExitCode.unavailable,
  storage: ExitCode.storage,
  corrupt: ExitCode.corrupt,
};

const httpStatuses: Record<ErrorCode, number> = {
  invalid: 400,
  not_found: 404,
  conflict: 409,
  illegal_state: 409,
  stale_run: 409,
  unauthorized: 401,
  forbidden: 403,
  setup: 500,
  unsupported_media_type: 415,
  unavailable: 503,
  storage: 507,
  corrupt: 500,
};

/** A failure with a stable code and a one-line message for people. */
export class WardenError extends Error {
  override readonly name = 'WardenError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
  }

  /** The CLI exit code for this error. */
  get exitCode(): ExitCode {
    return exitCodes[this.code];
  }

  /** The HTTP status for this error. */
  get httpStatus(): number {
    return httpStatuses[this.code];
  }
}

/** Shorthand for `new WardenError('invalid', message)`. */
export function invalid(message: string, details?: Record<string, unknown>): WardenError {
  return new WardenError(ErrorCode.invalid, message, details);
}

/** Shorthand for `new WardenError('not_found', message)`. */
export function notFound(message: string, details?: Record<string, unknown>): WardenError {
  return new WardenError(ErrorCode.not_found, message, details);
}

/** Shorthand for `new WardenError('conflict', message)`. */
export function conflict(message: string, details?: Record<string, unknown>): WardenError {
  return new WardenError(ErrorCode.conflict, message, details);
}

/** Shorthand for `new WardenError('illegal_state', message)`. */
export function illegalState(message: string, details?: Record<string, unknown>): WardenError {
  return new WardenError(ErrorCode.illegal_state, message, details);
}

/** What was thrown, as an Error (a library may throw a string). */
export function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
