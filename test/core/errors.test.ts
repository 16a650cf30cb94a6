import { describe, expect, it } from 'vitest';
import { ErrorCode, ExitCode, WardenError } from '../../src/core/errors.js';

describe('errors', () => {
  it.each([
    [ErrorCode.invalid, ExitCode.usage, 400],
    [ErrorCode.not_found, ExitCode.not_found, 404],
    [ErrorCode.conflict, ExitCode.conflict, 409],
    [ErrorCode.illegal_state, ExitCode.conflict, 409],
    [ErrorCode.stale_run, ExitCode.conflict, 409],
    [ErrorCode.unauthorized, ExitCode.error, 401],
    [ErrorCode.forbidden, ExitCode.error, 403],
    [ErrorCode.setup, ExitCode.error, 500],
  ])('%s maps to exit %d and HTTP %d', (code, exit, http) => {
    const err = new WardenError(code, 'x');
    expect(err.exitCode).toBe(exit);
    expect(err.httpStatus).toBe(http);
  });
});
