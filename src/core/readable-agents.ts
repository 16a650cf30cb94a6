/**
 * `warden log --readable` for the JSON lines of Codex (`codex exec --json`), Gemini CLI
 * (`--output-format stream-json`) and OpenCode (`run --format json`), as their real CLIs
 * printed them in user trials: what the
 * agent said, each command or tool with what it answered, and how the turn ended. Claude
 * Code's shapes are in `readable-log.ts`, which asks these first for the types it does not know.
 * Each returns null for a line it does not know, which is then shown as it is.
 */
import {
  SAID_MAX,
  TOOL_MAX,
  answerLine,
  blocksText,
  flat,
  obj,
  str,
  toolText,
} from './readable-text.js';
import type { Obj } from './readable-text.js';

function num(v: unknown): number | null {
  return typeof v === 'number' ? v : null;
}

/** One of Codex's items, as `item.started` (a call begins) or `item.completed` shows it. */
function codexItem(item: Obj, completed: boolean): string[] {
  switch (item.type) {
    case 'agent_message': {
      const text = str(item.text);
      return completed && text !== null && text.trim() !== ''
        ? [`said: ${flat(text, SAID_MAX)}`]
        : [];
    }
    case 'reasoning': {
      const text = str(item.text);
      return completed && text !== null ? [`thought: ${flat(text, TOOL_MAX)}`] : [];
    }
    case 'command_execution': {
      if (!completed) return [`tool shell: ${flat(str(item.command) ?? '?', TOOL_MAX)}`];
      const code = num(item.exit_code);
      const out = answerLine(str(item.aggregated_output) ?? '', code !== null && code !== 0);
      return [code === null || code === 0 ? out : `${out} (exit ${code})`];
    }
    case 'mcp_tool_call': {
      if (!completed) return [toolText(str(item.tool) ?? '?', obj(item.arguments))];
      const error = str(obj(item.error)?.message) ?? str(item.error);
      if (error !== null) return [answerLine(error, true)];
      return [answerLine(blocksText(obj(item.result)?.content), false)];
    }
    case 'file_change': {
      const changes = Array.isArray(item.changes) ? item.changes.map(obj) : [];
      const named = changes.map((c) => `${str(c?.kind) ?? 'change'} ${str(c?.path) ?? '?'}`);
      return completed ? [`changed: ${flat(named.join(', '), TOOL_MAX)}`] : [];
    }
    case 'web_search':
      return completed ? [] : [`tool web_search: ${flat(str(item.query) ?? '?', TOOL_MAX)}`];
    case 'error':
      return [`error: ${flat(str(item.message) ?? '?', SAID_MAX)}`];
    default:
      return completed
        ? [`${str(item.type) ?? 'item'}: ${flat(JSON.stringify(item), TOOL_MAX)}`]
        : [];
  }
}

/** Codex's token figures of a turn. */
function codexUsage(usage: Obj | null): string {
  if (usage === null) return '';
  const input = num(usage.input_tokens);
  const cached = num(usage.cached_input_tokens);
  const output = num(usage.output_tokens);
  const parts = [
    input === null ? null : `in ${input}${cached ? ` (${cached} cached)` : ''}`,
    output === null ? null : `out ${output}`,
  ].filter((p) => p !== null);
  return parts.length === 0 ? '' : ` (tokens ${parts.join(', ')})`;
}

/** The lines of one of Codex's events, or null when it is not one. */
export function codexLines(o: Obj): string[] | null {
  switch (o.type) {
    case 'thread.started':
      return ['session started'];
    case 'turn.started':
      return [];
    case 'item.started':
    case 'item.updated': {
      const item = obj(o.item);
      return item === null || o.type === 'item.updated' ? [] : codexItem(item, false);
    }
    case 'item.completed': {
      const item = obj(o.item);
      return item === null ? null : codexItem(item, true);
    }
    case 'turn.completed':
      return [`turn done${codexUsage(obj(o.usage))}`];
    case 'turn.failed':
      return [`turn failed: ${flat(str(obj(o.error)?.message) ?? '?', SAID_MAX)}`];
    default:
      return null;
  }
}

/** The lines of one of Gemini CLI's events, or null when it is not one. */
export function geminiLines(o: Obj): string[] | null {
  switch (o.type) {
    case 'init':
      return [`session started: model ${str(o.model) ?? '?'}`];
    case 'message': {
      const text = str(o.content);
      if (text === null || text.trim() === '') return [];
      return [`${o.role === 'user' ? 'user' : 'said'}: ${flat(text, SAID_MAX)}`];
    }
    case 'tool_use': {
      // Its MCP tools are named mcp_SERVER_TOOL: the tool's own name says enough.
      const name = (str(o.tool_name) ?? '?').replace(/^mcp_warden_/, '');
      return [toolText(name, obj(o.parameters))];
    }
    case 'tool_result': {
      const failed = o.status !== 'success';
      const error = str(obj(o.error)?.message) ?? str(o.error);
      return [answerLine(failed && error !== null ? error : (str(o.output) ?? ''), failed)];
    }
    case 'result': {
      const error = str(obj(o.error)?.message);
      if (error !== null) return [`result (error): ${flat(error, SAID_MAX)}`];
      const stats = obj(o.stats);
      const tokens = num(stats?.total_tokens);
      const calls = num(stats?.tool_calls);
      const figures = [
        tokens === null ? null : `${tokens} tokens`,
        calls === null ? null : `${calls} tool calls`,
      ]
        .filter((f) => f !== null)
        .join(', ');
      return [`result: ${str(o.status) ?? '?'}${figures === '' ? '' : ` (${figures})`}`];
    }
    default:
      return null;
  }
}

/**
 * The lines of one of OpenCode's events, or null when it is not one. Each carries a `part`
 * (an error carries an `error` whose `data` says what failed); a tool's call and its answer
 * come in one `tool_use` event, once the tool has run. Its MCP tools are named SERVER_TOOL.
 */
export function opencodeLines(o: Obj): string[] | null {
  const part = obj(o.part);
  switch (o.type) {
    case 'step_start':
      return part === null ? null : [];
    case 'text': {
      const text = str(part?.text);
      if (part === null) return null;
      return text === null || text.trim() === '' ? [] : [`said: ${flat(text, SAID_MAX)}`];
    }
    case 'reasoning': {
      const text = str(part?.text);
      return part === null ? null : text === null ? [] : [`thought: ${flat(text, TOOL_MAX)}`];
    }
    case 'tool_use': {
      if (part === null) return null;
      const state = obj(part.state);
      const name = (str(part.tool) ?? '?').replace(/^warden_/, '');
      const failed = state?.status === 'error';
      const answer = failed ? (str(state?.error) ?? '') : (str(state?.output) ?? '');
      return [toolText(name, obj(state?.input)), answerLine(answer, failed)];
    }
    case 'step_finish': {
      if (part === null) return null;
      if (part.reason === 'tool-calls') return [];
      const total = num(obj(part.tokens)?.total);
      return [`turn done: ${str(part.reason) ?? '?'}${total === null ? '' : ` (${total} tokens)`}`];
    }
    case 'error': {
      const error = obj(o.error);
      if (error === null) return null;
      const said = str(obj(error.data)?.message) ?? str(error.message) ?? str(error.name) ?? '?';
      return [`error: ${flat(said, SAID_MAX)}`];
    }
    default:
      return null;
  }
}
