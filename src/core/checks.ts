import { invalid } from './errors.js';
import { INPUT_LIMITS } from './defaults.js';

// The checks of input that need no schema library, so that a command that only reads (and
// the store's read paths) never loads zod: importing it and building the input schemas costs
// more than the rest of `warden list`'s start-up. The schemas are in validate.ts.

const encoder = new TextEncoder();

/** Size of a string in UTF-8 bytes. */
export function byteLength(text: string): number {
  return encoder.encode(text).length;
}

// C0 and C1 controls (and DEL), and the bidi overrides and isolates that make text read in
// another order than it is stored ("Trojan Source"): none belongs in a title or a name.
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const LINE_FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u;
// Bodies, comments and reasons may run over lines and keep tabs; other controls (NUL, ESC
// sequences that drive a terminal) are refused there too.
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const TEXT_FORBIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/u;

function codePoint(char: string): string {
  return `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * What is wrong with `text` as one line (a title, a name: `multiline` false) or as free text
 * (a body, a comment, a reason: `multiline` true), or null when nothing is.
 */
export function forbiddenCharacter(text: string, multiline: boolean): string | null {
  const found = (multiline ? TEXT_FORBIDDEN : LINE_FORBIDDEN).exec(text);
  if (!found) return null;
  return multiline
    ? `must not contain control characters other than tab and newline (found ${codePoint(found[0])})`
    : `must not contain control or bidi-override characters (found ${codePoint(found[0])})`;
}

/** Throws `invalid` naming `what` when `text` holds a character `forbiddenCharacter` refuses. */
export function checkCharacters(text: string, what: string, multiline: boolean): void {
  const problem = forbiddenCharacter(text, multiline);
  if (problem !== null) throw invalid(`${what}: ${problem}`);
}

/**
 * How deeply arrays and objects nest in `value` (a scalar is 0, `[]` is 1), counted without
 * recursion so that a hostile value cannot overflow the stack; stops past `max`.
 */
/**
 * A person's or worker's text (an answer, a review, a question): not blank, at most
 * `maxBytes`, and no control or bidi characters. `hint` follows "must not be empty".
 */
export function checkText(text: string, what: string, maxBytes: number, hint = ''): void {
  if (text.trim() === '') throw invalid(`${what}: must not be empty${hint}`);
  if (byteLength(text) > maxBytes) throw invalid(`${what}: must be at most ${maxBytes} bytes`);
  checkCharacters(text, what, true);
}

export function jsonDepth(value: unknown, max: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (v === null || typeof v !== 'object') continue;
    const here = depth + 1;
    if (here > deepest) deepest = here;
    if (deepest > max) return deepest;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, here]);
  }
  return deepest;
}

/** Throws `invalid` when `value` nests deeper than the JSON depth limit. */
export function checkJsonDepth(value: unknown, what: string): void {
  const max = INPUT_LIMITS.json_max_depth;
  if (jsonDepth(value, max) > max) {
    throw invalid(
      `${what}: JSON nests deeper than ${max} levels of arrays and objects; flatten it`,
    );
  }
}

/**
 * Checks a result's metadata: nesting first (serialising a deeply nested value would
 * overflow the stack), then its size as JSON.
 */
export function checkMetadata(metadata: unknown): void {
  checkJsonDepth(metadata, 'metadata');
  if (byteLength(JSON.stringify(metadata)) > INPUT_LIMITS.metadata_max_bytes) {
    throw invalid(`metadata: must be at most ${INPUT_LIMITS.metadata_max_bytes} bytes of JSON`);
  }
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

/** What a name (of a board, profile, group or token) may hold. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
export const NAME_RULE = 'use letters, digits, _ . or - (starting with a letter or digit)';

/** Whether `value` is a well-formed name (see `checkName`). */
export function isName(value: string): boolean {
  return NAME_PATTERN.test(value) && value.length <= INPUT_LIMITS.name_max_chars;
}

/**
 * Checks a name of a board, profile, group or token: letters, digits, `_`, `.`, `-`, at most
 * `INPUT_LIMITS.name_max_chars` characters. Returns it; throws `invalid` naming `what`.
 */
export function checkName(value: unknown, what: string): string {
  let problem: string | null = null;
  if (typeof value !== 'string') problem = 'must be text';
  else if (!NAME_PATTERN.test(value)) problem = NAME_RULE;
  else if (value.length > INPUT_LIMITS.name_max_chars) {
    problem = `must be at most ${INPUT_LIMITS.name_max_chars} characters`;
  }
  if (problem !== null) throw invalid(`${what}: ${problem}`, { what });
  return value as string;
}
