/**
 * What an agent said last, in words. Agents that stream JSON lines (Claude Code, Codex, Gemini
 * CLI) end a failed run with a line whose message is the cause (`"result":"Invalid API key"`,
 * `"error":{"message":...}`), among fields a person has no use for; a run's reason quotes that
 * message rather than a cut window of the JSON.
 */

const MESSAGE_MAX_CHARS = 300;

function field(o: Record<string, unknown>, name: string): string | null {
  const v = o[name];
  return typeof v === 'string' && v.trim() !== '' ? v : null;
}

/**
 * The message a line carries when it is a JSON object that carries one: a `result` line's
 * `result`, an `error` object's `message`, an error event's `message`, or an `error` string;
 * null for any other line.
 */
export function messageOf(line: string): string | null {
  const text = line.trim();
  if (!text.startsWith('{')) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const o = value as Record<string, unknown>;
  const type = field(o, 'type') ?? '';
  const error = o.error;
  const said =
    (type === 'result' ? field(o, 'result') : null) ??
    (typeof error === 'object' && error !== null && !Array.isArray(error)
      ? field(error as Record<string, unknown>, 'message')
      : null) ??
    (/error|fail/i.test(type) ? field(o, 'message') : null) ??
    field(o, 'error');
  if (said === null) return null;
  const flat = said.replace(/\s+/g, ' ').trim();
  return flat.length > MESSAGE_MAX_CHARS ? `${flat.slice(0, MESSAGE_MAX_CHARS - 1)}…` : flat;
}

/** The message of the last line that carries one (`messageOf`), or null. */
export function finalWord(lines: readonly string[]): string | null {
  for (let i = lines.length - 1; i >= 0; i--) {
    const said = messageOf(lines[i] ?? '');
    if (said !== null) return said;
  }
  return null;
}
