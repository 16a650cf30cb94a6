import type { z } from '@hono/zod-openapi';
import { AnyJson, ErrorSchema } from './schemas.js';

const error = (description: string) =>
  ({ description, content: { 'application/json': { schema: ErrorSchema } } }) as const;

/** The answers every route may give: 200 with JSON, or one of the error answers. */
export const RESPONSES = {
  200: { description: 'ok', content: { 'application/json': { schema: AnyJson } } },
  400: error('invalid input'),
  401: error('missing or unknown token'),
  403: error('not allowed for this token'),
  404: error('not found'),
  409: error('conflict: a forbidden transition, or `stale_run` when the run is no longer current'),
} as const;

/** A required JSON request body. */
export function jsonBody<T extends z.ZodType>(
  schema: T,
): {
  readonly content: { readonly 'application/json': { readonly schema: T } };
  readonly required: true;
} {
  return { content: { 'application/json': { schema } }, required: true } as const;
}

/** Routes that take a bearer token. */
export const BEARER = [{ bearer: [] }];

/** Describes routes of one tag: `route('get', '/tasks', 'list tasks')`. */
export function routesOf(
  tag: string,
): <M extends 'get' | 'post' | 'patch', P extends string>(
  method: M,
  path: P,
  summary: string,
) => ReturnType<typeof routeBase<M, P>> {
  return <M extends 'get' | 'post' | 'patch', P extends string>(
    method: M,
    path: P,
    summary: string,
  ) => routeBase(method, path, summary, tag);
}

/** The common part of a route description: summary, tag, bearer security, the answers. */
export function routeBase<M extends 'get' | 'post' | 'patch', P extends string>(
  method: M,
  path: P,
  summary: string,
  tag: string,
): {
  method: M;
  path: P;
  summary: string;
  tags: string[];
  security: typeof BEARER;
  responses: typeof RESPONSES;
} {
  return { method, path, summary, tags: [tag], security: BEARER, responses: RESPONSES };
}
