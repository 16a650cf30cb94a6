/**
 * What an agent said last, in words. Agents that stream JSON lines (Claude Code, Codex, Gemini
 * CLI, OpenCode) end a failed run with a line whose message is the cause (`"result":"Invalid API key"`,
 * `"error":{"message":...}`), among fields a person has no use for; a run's reason quotes that
 * message rather than a cut window of the JSON.
 */

const MESSAGE_MAX_CHARS = 300;

function field(o: Record<string, unknown>, name: string): string | null {
  const v = o[name];
  return typeof v === 'string' && v.trim() !== '' ? v : null;
}

/** A field that holds an object, or null. */
function object(o: Record<string, unknown>, name: string): Record<string, unknown> | null {
  const v = o[name];
  return typeof v === 'object' && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : null;
}

/**
 * What the agent said to the person, in the agents' own event shapes: Codex's completed
 * `agent_message` item, Gemini CLI's assistant `message` (one chunk of it when `delta`),
 * OpenCode's `text` part.
 */
function agentMessage(o: Record<string, unknown>, type: string): string | null {
  const item = object(o, 'item');
  if (type === 'item.completed' && item !== null) {
    return item.type === 'agent_message' ? field(item, 'text') : null;
  }
  if (type === 'message' && o.role === 'assistant') return field(o, 'content');
  const part = object(o, 'part');
  if (type === 'text' && part !== null) return field(part, 'text');
  return null;
}

/**
 * An `error` object's message: its own, or OpenCode's under `data`
 * (`{"name":"APIError","data":{"message":...,"statusCode":401}}`).
 */
function errorMessage(o: Record<string, unknown>): string | null {
  const error = object(o, 'error');
  if (error === null) return null;
  const data = object(error, 'data');
  return field(error, 'message') ?? (data === null ? null : field(data, 'message'));
}

/** The text of a line that is one chunk of Gemini CLI's streamed assistant message, or null. */
function chunkOf(line: string): string | null {
  const t = line.trim();
  if (!t.startsWith('{"type":"message"') || !t.includes('"delta":true')) return null;
  try {
    const o = JSON.parse(t) as Record<string, unknown>;
    return o.role === 'assistant' && o.delta === true && typeof o.content === 'string'
      ? o.content
      : null;
  } catch {
    return null;
  }
}

/**
 * The message a line carries when it is a JSON object that carries one: a `result` line's
 * `result`, an agent's message to the person, an `error` object's `message`, an error event's
 * `message`, or an `error` string; null for any other line. Without `agentText`, only what
 * says what went wrong (not what the agent told the person).
 */
export function messageOf(line: string, agentText = true): string | null {
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
  const said =
    (type === 'result' ? field(o, 'result') : null) ??
    (agentText ? agentMessage(o, type) : null) ??
    errorMessage(o) ??
    (/error|fail/i.test(type) ? field(o, 'message') : null) ??
    field(o, 'error');
  if (said === null) return null;
  const flat = said.replace(/\s+/g, ' ').trim();
  return flat.length > MESSAGE_MAX_CHARS ? `${flat.slice(0, MESSAGE_MAX_CHARS - 1)}…` : flat;
}

/** The lines with each run of streamed chunks joined into one line of the whole message. */
function joinChunks(lines: readonly string[]): string[] {
  const out: string[] = [];
  let parts: string[] = [];
  const flush = (): void => {
    if (parts.length > 0) out.push(JSON.stringify({ type: 'result', result: parts.join('') }));
    parts = [];
  };
  for (const line of lines) {
    const chunk = chunkOf(line);
    if (chunk !== null) {
      parts.push(chunk);
      continue;
    }
    flush();
    out.push(line);
  }
  flush();
  return out;
}

/**
 * The message of the last line that carries one (`messageOf`), or null. A message streamed in
 * chunks (Gemini CLI's `delta` lines) is read whole.
 */
export function finalWord(lines: readonly string[], agentText = true): string | null {
  const joined = agentText ? joinChunks(lines) : lines;
  for (let i = joined.length - 1; i >= 0; i--) {
    const said = messageOf(joined[i] ?? '', agentText);
    if (said !== null) return said;
  }
  return null;
}
