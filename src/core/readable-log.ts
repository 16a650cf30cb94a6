import { codexLines, geminiLines, opencodeLines } from './readable-agents.js';
import { SAID_MAX, answerLine, blocksText, flat, obj, str, toolText } from './readable-text.js';
import type { Obj } from './readable-text.js';

/**
 * A run's log as a person reads it (`warden log --readable`). Claude Code's stream-json log is
 * one JSON event per line, each thousands of characters of ids, usage and tool lists; this
 * turns each event into what it says: what the agent said, each tool it used with its command
 * or file, the first line of what the tool answered, and the result with its turns and cost.
 * Codex's and Gemini CLI's JSON lines are read by `readable-agents.ts`. Lines that are not JSON
 * (the launcher's, a shell worker's) pass as they are, and so do JSON lines of other shapes, so
 * nothing a person may need is hidden; only events that say nothing to a person (streamed
 * partial messages, a turn's start) are left out.
 */

function toolLine(block: Obj): string {
  // MCP tools are named mcp__SERVER__TOOL: the tool's own name says enough.
  return toolText((str(block.name) ?? '?').replace(/^mcp__.+?__/, ''), obj(block.input));
}

function assistantLines(message: Obj | null): string[] {
  const content = message?.content;
  if (!Array.isArray(content)) return [];
  const lines: string[] = [];
  for (const item of content) {
    const block = obj(item);
    if (block === null) continue;
    if (block.type === 'text') {
      const text = str(block.text);
      if (text !== null && text.trim() !== '') lines.push(`said: ${flat(text, SAID_MAX)}`);
    } else if (block.type === 'tool_use') {
      lines.push(toolLine(block));
    }
  }
  return lines;
}

function userLines(message: Obj | null): string[] {
  const content = message?.content;
  if (typeof content === 'string') return [`user: ${flat(content, SAID_MAX)}`];
  if (!Array.isArray(content)) return [];
  const lines: string[] = [];
  for (const item of content) {
    const block = obj(item);
    if (block?.type !== 'tool_result') continue;
    // A JSON answer (an MCP tool's) reads whole on one line; other output by its first line.
    lines.push(answerLine(blocksText(block.content), block.is_error === true));
  }
  return lines;
}

function retryLine(o: Obj): string {
  const status = typeof o.error_status === 'number' ? `HTTP ${o.error_status}` : 'no answer';
  const error = str(o.error);
  const attempt = typeof o.attempt === 'number' ? `retry ${o.attempt}` : 'a retry';
  const of = typeof o.max_retries === 'number' ? ` of ${o.max_retries}` : '';
  const wait =
    typeof o.retry_delay_ms === 'number' ? ` in ${(o.retry_delay_ms / 1000).toFixed(1)}s` : '';
  return `model request failed (${status}${error === null ? '' : `, ${error}`}); ${attempt}${of}${wait}`;
}

function resultLine(o: Obj): string {
  const turns = typeof o.num_turns === 'number' ? `${o.num_turns} turns` : null;
  const cost = typeof o.total_cost_usd === 'number' ? `USD ${o.total_cost_usd.toFixed(2)}` : null;
  const figures = [turns, cost].filter((f) => f !== null).join(', ');
  const text = str(o.result) ?? '';
  return `result${o.is_error === true ? ' (error)' : ''}: ${flat(text, SAID_MAX)}${figures === '' ? '' : ` (${figures})`}`;
}

/** The lines a person reads for one line of a log (none for an event that says nothing). */
export function readableLines(line: string): string[] {
  const text = line.trim();
  if (!text.startsWith('{')) return [line];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return [line];
  }
  const o = obj(parsed);
  if (o === null) return [line];
  switch (o.type) {
    case 'system':
      if (o.subtype === 'init')
        return [`session started: model ${str(o.model) ?? '?'} in ${str(o.cwd) ?? '?'}`];
      // A failed model request the agent tries again: what an outage looks like from inside.
      return o.subtype === 'api_retry' ? [retryLine(o)] : [];
    case 'assistant':
      return assistantLines(obj(o.message));
    case 'user':
      return userLines(obj(o.message));
    case 'result':
      // Claude Code's result carries its text; Gemini CLI's its `status`, `error`, `stats`.
      return typeof o.result === 'string' ? [resultLine(o)] : (geminiLines(o) ?? [line]);
    case 'stream_event':
      return [];
    case 'error':
      // Codex's and Gemini CLI's error events; OpenCode's says it under `error.data`.
      return opencodeLines(o) ?? [`error: ${flat(str(o.message) ?? JSON.stringify(o), SAID_MAX)}`];
    default:
      return codexLines(o) ?? opencodeLines(o) ?? geminiLines(o) ?? [line];
  }
}

/**
 * Renders a log's text as it comes, in pieces that may end mid-line: each whole line is
 * rendered, a partial one is kept for the next piece (or `end`).
 */
export class ReadableLog {
  private rest = '';

  /** The rendered text of the whole lines `piece` completes. */
  push(piece: string): string {
    const text = this.rest + piece;
    const cut = text.lastIndexOf('\n');
    if (cut < 0) {
      this.rest = text;
      return '';
    }
    this.rest = text.slice(cut + 1);
    return render(text.slice(0, cut));
  }

  /** The rendered text of a last line that had no newline. */
  end(): string {
    const text = this.rest;
    this.rest = '';
    return text === '' ? '' : render(text);
  }
}

function render(lines: string): string {
  const out = lines.split('\n').flatMap(readableLines);
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}
