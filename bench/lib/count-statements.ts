/**
 * A measurement, not a setting: preloaded into `warden serve` (`node --import`) by the
 * `statements` benchmark, it counts every statement `serve` sends to its database, by kind,
 * without editing warden. PostgreSQL: every `pg` client query (each is one round trip to the
 * server, the pool's and the LISTEN connection's alike). SQLite: every `better-sqlite3`
 * statement run (`run`, `get`, `all`, `iterate`) and every `exec` (BEGIN, COMMIT, SAVEPOINT).
 * On SIGUSR2 it writes the counts so far to `$BENCH_COUNT_FILE` (then renames it into place,
 * so a reader never sees half a file), with `snapshots`, how many it has written.
 */
import { renameSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import pg from 'pg';

const file = process.env.BENCH_COUNT_FILE;
const counts = new Map<string, number>();
let snapshots = 0;

/**
 * What kind of statement `sql` is: its verb and the table it is about (`UPDATE runs`,
 * `SELECT tasks`, `INSERT events`), or the whole statement for transaction control
 * (`BEGIN ISOLATION LEVEL SERIALIZABLE`, `COMMIT`).
 */
export function kindOf(sql: string): string {
  const text = sql.replace(/\s+/g, ' ').trim();
  const verb = (/^\w+/.exec(text)?.[0] ?? '?').toUpperCase();
  const table = (re: RegExp): string => re.exec(text)?.[1]?.toLowerCase() ?? '';
  switch (verb) {
    case 'INSERT':
      return `INSERT ${table(/^INSERT (?:OR \w+ )?INTO (\w+)/i)}`;
    case 'UPDATE':
      return `UPDATE ${table(/^UPDATE (\w+)/i)}`;
    case 'DELETE':
      return `DELETE ${table(/^DELETE FROM (\w+)/i)}`;
    case 'SELECT':
    case 'WITH': {
      const from = table(/\bFROM (?!clock_timestamp\b)(\w+)/i);
      return from === '' ? `${verb} ${text.slice(7, 40)}` : `${verb} ${from}`;
    }
    case 'SAVEPOINT':
    case 'RELEASE':
      return verb;
    default:
      return text.length > 60 ? `${text.slice(0, 60)}…` : text;
  }
}

function count(sql: unknown): void {
  const text =
    typeof sql === 'string'
      ? sql
      : typeof (sql as { text?: unknown } | null)?.text === 'string'
        ? (sql as { text: string }).text
        : '?';
  const kind = kindOf(text);
  counts.set(kind, (counts.get(kind) ?? 0) + 1);
}

type Query = (this: pg.Client, ...args: unknown[]) => unknown;
const clientProto = pg.Client.prototype as unknown as { query: Query };
const query = clientProto.query;
clientProto.query = function (this: pg.Client, ...args: unknown[]): unknown {
  count(args[0]);
  return query.apply(this, args);
};

type Method = (this: Database.Statement, ...args: unknown[]) => unknown;
const probe = new Database(':memory:');
const statementProto = Object.getPrototypeOf(probe.prepare('SELECT 1')) as Record<string, Method>;
probe.close();
for (const name of ['run', 'get', 'all', 'iterate']) {
  const original = statementProto[name];
  if (original === undefined) continue;
  statementProto[name] = function (this: Database.Statement, ...args: unknown[]): unknown {
    count(this.source);
    return original.apply(this, args);
  };
}
const dbProto = Database.prototype as unknown as {
  exec: (this: Database.Database, sql: string) => unknown;
};
const exec = dbProto.exec;
dbProto.exec = function (this: Database.Database, sql: string): unknown {
  count(sql);
  return exec.call(this, sql);
};

if (file !== undefined) {
  process.on('SIGUSR2', () => {
    snapshots++;
    const body = JSON.stringify({ snapshots, counts: Object.fromEntries(counts) });
    writeFileSync(`${file}.tmp`, body);
    renameSync(`${file}.tmp`, file);
  });
}
