import { z } from 'zod';
import './zod-messages.js';
import { invalid } from './errors.js';
import { INPUT_LIMITS } from './defaults.js';
import { NAME_PATTERN, NAME_RULE, byteLength, forbiddenCharacter } from './checks.js';

// The input schemas' building blocks (zod). Loaded only by code that writes: the checks a
// read needs are in checks.ts.

/** A name of a board, profile, group or token: letters, digits, `_`, `.`, `-`. */
export const nameSchema = z
  .string()
  .regex(NAME_PATTERN, { message: NAME_RULE })
  .max(INPUT_LIMITS.name_max_chars, {
    message: `must be at most ${INPUT_LIMITS.name_max_chars} characters`,
  });

/** A zod check for `forbiddenCharacter`, to add with `.check(...)` or `.superRefine(...)`. */
export function refuseCharacters(multiline: boolean): (text: string, ctx: z.RefinementCtx) => void {
  return (text, ctx) => {
    const problem = forbiddenCharacter(text, multiline);
    if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
  };
}

/** Text limited in UTF-8 bytes rather than characters, free of stray control characters. */
export function textOfAtMost(bytes: number): z.ZodType<string, string> {
  return z
    .string()
    .refine((s) => byteLength(s) <= bytes, {
      message: `must be at most ${bytes} bytes`,
    })
    .superRefine(refuseCharacters(true));
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
