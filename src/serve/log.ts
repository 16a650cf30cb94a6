import { pino } from 'pino';
import type { Logger } from 'pino';
import { invalid } from '../core/errors.js';

/** `serve --log-level`: pino's levels, least to most severe, and `silent`. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** `serve --log-format`: `auto` is pretty on a terminal and JSON anywhere else. */
export const LOG_FORMATS = ['auto', 'pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Checks a `--log-level` value. */
export function parseLogLevel(text: string, what = '--log-level'): LogLevel {
  const level = LOG_LEVELS.find((l) => l === text);
  if (level === undefined)
    throw invalid(`${what}: '${text}' is not one of ${LOG_LEVELS.join(', ')}`);
  return level;
}

/** Checks a `--log-format` value. */
export function parseLogFormat(text: string, what = '--log-format'): LogFormat {
  const format = LOG_FORMATS.find((f) => f === text);
  if (format === undefined)
    throw invalid(`${what}: '${text}' is not one of ${LOG_FORMATS.join(', ')}`);
  return format;
}

/** Whether the log is written pretty: asked for, or `auto` on a terminal. */
export function prettyLog(format: LogFormat, isTerminal: boolean): boolean {
  return format === 'pretty' || (format === 'auto' && isTerminal);
}

const NAMES: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

/** ANSI colours of the level names on a terminal. */
const COLOURS: Record<number, string> = {
  10: '\u001b[90m',
  20: '\u001b[90m',
  30: '\u001b[32m',
  40: '\u001b[33m',
  50: '\u001b[31m',
  60: '\u001b[35m',
};
const RESET = '\u001b[0m';

/** pino's own fields, which the pretty line says in its own way or leaves out. */
const OWN = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'host', 'err']);

function clock(ms: unknown): string {
  const d = typeof ms === 'number' ? new Date(ms) : new Date();
  return d.toISOString().slice(11, 23);
}

function value(v: unknown): string {
  const text = typeof v === 'string' ? v : JSON.stringify(v);
  return /[\s"=]/.test(text) ? JSON.stringify(text) : text;
}

/**
 * One of pino's JSON lines as a line for a person: `12:04:05.120 INFO  started run 7 ...`,
 * then the record's own fields as `key=value`, and an error's stack indented below. A line
 * that is not pino's JSON is given back as it is.
 */
export function prettyLine(json: string, colour: boolean): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const level = typeof rec.level === 'number' ? rec.level : 30;
  const name = (NAMES[level] ?? String(level)).padEnd(5);
  const shown = colour ? `${COLOURS[level] ?? ''}${name}${RESET}` : name;
  const fields = Object.entries(rec)
    .filter(([k]) => !OWN.has(k))
    .map(([k, v]) => `${k}=${value(v)}`);
  const msg = typeof rec.msg === 'string' ? rec.msg : '';
  const head = [clock(rec.time), shown, msg, ...fields].filter((p) => p !== '').join(' ');
  const err = rec.err as { stack?: unknown } | null | undefined;
  const stack =
    err && typeof err.stack === 'string'
      ? `\n${err.stack
          .split('\n')
          .map((l) => `    ${l}`)
          .join('\n')}`
      : '';
  return `${head}${stack}\n`;
}

/**
 * A write to a terminal that has gone (EIO) or a pipe nobody reads (EPIPE) fails: `serve` goes
 * on without its log rather than die of it. Anything else is thrown as before.
 */
export function lostOutput(err: NodeJS.ErrnoException): void {
  if (err.code === 'EIO' || err.code === 'EPIPE') return;
  throw err;
}

/** Where the log goes: standard error unless a test says otherwise. */
export interface LogSink {
  write(text: string): void;
  isTTY?: boolean;
}

/**
 * `serve`'s logger (docs/operations.md): pino at `level`, JSON lines on `sink`, or pretty lines
 * when `format` says so (a terminal, with `auto`). Tokens and bodies are never given to it.
 */
export function serveLogger(opts: {
  level: LogLevel;
  format: LogFormat;
  host?: string;
  sink?: LogSink;
}): Logger {
  const sink = opts.sink ?? process.stderr;
  const base = { base: opts.host === undefined ? {} : { host: opts.host }, level: opts.level };
  if (!prettyLog(opts.format, sink.isTTY === true)) {
    if (opts.sink) return pino(base, { write: (s: string) => sink.write(s) });
    const destination = pino.destination(2);
    destination.on('error', (err: NodeJS.ErrnoException) => {
      lostOutput(err);
      // Nothing more can be written there: drop each line (it would keep them all, in memory).
      destination.write = () => true;
    });
    return pino(base, destination);
  }
  const colour = sink.isTTY === true;
  return pino(base, { write: (s: string) => sink.write(prettyLine(s, colour)) });
}
