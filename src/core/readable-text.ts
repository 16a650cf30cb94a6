import { oneLine } from './gist.js';

/** What `warden log --readable` writes with: JSON picked apart, text cut to one line. */

export const SAID_MAX = 500;
export const TOOL_MAX = 200;

export type Obj = Record<string, unknown>;

export function obj(v: unknown): Obj | null {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : null;
}

export function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

/** Text on one line, cut to `max` characters. */
export const flat = oneLine;

function isJson(text: string): boolean {
  if (!/^\s*[[{]/.test(text)) return false;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * A tool's answer as one line: JSON whole (an MCP tool's), other output by its first line
 * (git's `[warden/1 6e43c26] Add NOTE.txt` is not JSON for starting with a bracket).
 */
export function answerLine(text: string, failed: boolean): string {
  const shown = isJson(text)
    ? text
    : (text.split('\n').find((l) => l.trim() !== '') ?? '(no output)');
  return `  → ${failed ? 'error: ' : ''}${flat(shown, TOOL_MAX)}`;
}

/** The input field that says what a tool call does: a command, a file, a note. */
const TOOL_FIELDS = [
  'command',
  'file_path',
  'notebook_path',
  'path',
  'pattern',
  'url',
  'query',
  'summary',
  'question',
  'note',
  'reason',
  'description',
  'prompt',
];

/** A tool call as one line: its name and what it does (its input's telling field, or all). */
export function toolText(name: string, input: Obj | null): string {
  if (input === null) return `tool ${name}`;
  for (const field of TOOL_FIELDS) {
    const value = str(input[field]);
    if (value !== null) return `tool ${name}: ${flat(value, TOOL_MAX)}`;
  }
  const json = JSON.stringify(input);
  return json === '{}' ? `tool ${name}` : `tool ${name}: ${flat(json, TOOL_MAX)}`;
}

/** An MCP or tool answer's text: a string, or the text blocks of a list. */
export function blocksText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((c) => str(obj(c)?.text) ?? '')
    .filter((t) => t !== '')
    .join(' ');
}
