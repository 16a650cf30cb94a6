import { z } from 'zod';
import { invalid } from './errors.js';
import { INPUT_LIMITS } from './defaults.js';

const encoder = new TextEncoder();

/** Size of a string in UTF-8 bytes. */
export function byteLength(text: string): number {
  return encoder.encode(text).length;
}

/** A name of a board, profile, group or token: letters, digits, `_`, `.`, `-`. */
export const nameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, {
    message: 'use letters, digits, _ . or - (starting with a letter or digit)',
  })
  .max(INPUT_LIMITS.name_max_chars, {
    message: `must be at most ${INPUT_LIMITS.name_max_chars} characters`,
  });

/** Text limited in UTF-8 bytes rather than characters. */
export function textOfAtMost(bytes: number): z.ZodString {
  return z.string().refine((s) => byteLength(s) <= bytes, {
    message: `must be at most ${bytes} bytes`,
  });
}

/** A positive integer id. */
export const idSchema = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

/**
 * Parses `input` with `schema`, turning the first problem into one `invalid` line that names
 * the field: `title: must be at most 200 characters`.
 */
export function parseInput<S extends z.ZodType>(
  schema: S,
  input: unknown,
  what: string,
): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue && issue.path.length > 0 ? issue.path.join('.') : what;
  throw invalid(`${path}: ${issue?.message ?? 'is not valid'}`, { what });
}

/** Parses a task id given as text, as people type it on the command line. */
export function parseTaskId(text: string): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) {
    throw invalid(`'${text}' is not a task id; ids are whole numbers such as 12`);
  }
  return Number(text);
}

/** Parses JSON given as text, for `--metadata` and similar options. */
export function parseJsonText(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw invalid(`${what}: not valid JSON (${(e as Error).message})`);
  }
}
