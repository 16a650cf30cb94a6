import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ErrorCode, WardenError } from '../core/errors.js';

/**
 * Every error answer: a stable code and one line for people; answers of status 500 also
 * carry the request id under which the serve log recorded the cause.
 */
export interface ErrorBody {
  error: { code: string; message: string; request_id?: string };
}

/** The request id the `requestId` middleware gave this request, if it ran. */
export function requestIdOf(c: Context): string | undefined {
  const id: unknown = c.get('requestId');
  return typeof id === 'string' ? id : undefined;
}

/** A message kept to one line: it may quote what was sent, line breaks and all. */
export function oneLine(message: string): string {
  return message.replace(/\s*[\r\n\u2028\u2029]+\s*/g, ' ');
}

/** An error answer with the status its code maps to; its message is kept to one line. */
export function errorResponse(c: Context, err: WardenError): Response {
  const requestId = err.httpStatus >= 500 ? requestIdOf(c) : undefined;
  return c.json<ErrorBody>(
    {
      error: {
        code: err.code,
        message: oneLine(err.message),
        ...(requestId !== undefined ? { request_id: requestId } : {}),
      },
    },
    err.httpStatus as ContentfulStatusCode,
  );
}

/** Maps anything thrown in a handler to an answer; unexpected errors become 500s. */
export function onError(err: Error, c: Context): Response {
  if (err instanceof WardenError) return errorResponse(c, err);
  const status = (err as { status?: unknown }).status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code = status === 415 ? ErrorCode.unsupported_media_type : ErrorCode.invalid;
    return c.json<ErrorBody>(
      { error: { code, message: err.message || 'bad request' } },
      status as ContentfulStatusCode,
    );
  }
  const requestId = requestIdOf(c);
  return c.json<ErrorBody>(
    {
      error: {
        code: 'internal',
        message: `internal error; see the serve log${requestId !== undefined ? ` (request id ${requestId})` : ''}`,
        ...(requestId !== undefined ? { request_id: requestId } : {}),
      },
    },
    500,
  );
}

/** The hook that turns a failed request validation into one `invalid` line. */
export function validationHook(
  result: {
    success: boolean;
    error?: { issues: readonly { path: readonly PropertyKey[]; message: string }[] };
  },
  c: Context,
): Response | undefined {
  if (result.success) return undefined;
  const issue = result.error?.issues[0];
  const where = issue && issue.path.length > 0 ? `${issue.path.map(String).join('.')}: ` : '';
  return errorResponse(
    c,
    new WardenError(ErrorCode.invalid, `${where}${issue?.message ?? 'invalid request'}`),
  );
}
