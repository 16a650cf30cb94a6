/**
 * The SQLite and PostgreSQL migrations are written by hand side by side (issue #10); this test
 * keeps them describing one schema. It migrates a fresh SQLite file and a fresh PostgreSQL
 * schema with the stores' own open functions, reads each backend's catalog, and compares
 * tables, columns (type class, nullability, default, generated ids), primary keys, unique
 * constraints, foreign keys and indexes (name, table, columns in order with their direction,
 * unique, partial WHERE). A drift fails with one line per difference.
 *
 * Needs PostgreSQL (WARDEN_TEST_PG_URL; .ci/run sets it). In CI a missing URL fails rather than
 * skips; locally the tests skip and say why.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { openPgStore } from '../../src/store/postgres/open.js';
import { openSqliteStore } from '../../src/store/sqlite/open.js';

const URL = process.env.WARDEN_TEST_PG_URL;
if (!URL && process.env.CI) {
  throw new Error(
    'WARDEN_TEST_PG_URL is not set: CI must compare the SQLite and PostgreSQL schemas',
  );
}
const NO_PG = 'WARDEN_TEST_PG_URL is not set, so there is no PostgreSQL schema to compare with';

type Backend = 'sqlite' | 'postgres';
const SHOWN: Record<Backend, string> = { sqlite: 'SQLite', postgres: 'PostgreSQL' };

/**
 * What one backend has and the other, by design, does not. A whole table, or one column. The
 * test also fails when an entry goes stale (the thing is gone, or now on both sides).
 */
const ONE_BACKEND_ONLY: readonly {
  backend: Backend;
  table: string;
  column?: string;
  index?: string;
  why: string;
}[] = [
  {
    backend: 'postgres',
    table: 'admission_lock',
    why: 'admission and claim take turns by locking it (src/store/postgres/driver.ts); on SQLite BEGIN IMMEDIATE already lets one writer in at a time',
  },
  {
    backend: 'postgres',
    table: 'write_turn',
    why: "SERIALIZABLE writes of every host take turns by locking it (src/store/postgres/driver.ts), as one host's do in its line; SQLite has one writer",
  },
  {
    backend: 'postgres',
    table: 'events',
    column: 'tx',
    why: 'the writing transaction, so an event cursor never passes an event that commits after a later one (src/store/sql/events.ts); SQLite commits one writer at a time, so ids commit in order',
  },
  {
    backend: 'postgres',
    table: 'events',
    index: 'events_tx_id',
    why: 'a notification cursor reads events in (tx, id) order, the order they become final (src/store/sql/notify-cursor.ts); on SQLite that is id order',
  },
  {
    backend: 'postgres',
    table: 'events',
    index: 'events_board_tx',
    why: "a board's events are read in (tx, id) order (src/store/sql/events.ts); on SQLite that is id order, events_board",
  },
  {
    backend: 'postgres',
    table: 'task_search',
    why: "every task's lower-cased title and assignee under pg_trgm's trigram indexes, where a search finds its words (PostgreSQL migration 20, kept by a trigger); SQLite reads its tasks table straight through, a third of PostgreSQL's time without an index",
  },
  {
    backend: 'sqlite',
    table: 'events',
    index: 'events_board',
    why: "a board's events in id order, the order they are read on SQLite; PostgreSQL reads them in (tx, id) order, events_board_tx, which replaced it",
  },
];

/**
 * Type classes: what a column holds as the shared SQL sees it. Equal classes are equal
 * declarations. SQLite's INTEGER is 64-bit, so PostgreSQL's INTEGER and BIGINT (read back as a
 * number, src/store/postgres/driver.ts) are both `integer`. SQLite has no boolean and no JSON
 * type: a BOOLEAN column holds 0/1 and a JSON column a string, so they match PostgreSQL's
 * INTEGER and TEXT, not its BOOLEAN or JSON (read back as true/false and as a parsed value).
 * The project keeps flags as INTEGER 0/1 and JSON as TEXT on both backends. A type missing
 * here shows as unmapped, which never matches: add it with the class it really belongs to.
 */
const SQLITE_TYPES: Record<string, string> = {
  INTEGER: 'integer',
  INT: 'integer',
  BIGINT: 'integer',
  BOOLEAN: 'integer',
  TEXT: 'text',
  JSON: 'text',
  REAL: 'real',
  DOUBLE: 'real',
  BLOB: 'blob',
};
const PG_TYPES: Record<string, string> = {
  smallint: 'integer',
  integer: 'integer',
  bigint: 'integer',
  text: 'text',
  'character varying': 'text',
  real: 'real',
  'double precision': 'real',
  bytea: 'blob',
  boolean: 'boolean',
  json: 'json',
  jsonb: 'json',
};

function typeClass(backend: Backend, declared: string): string {
  const bare = declared.replace(/\s*\(.*\)\s*$/, '').trim();
  const known = backend === 'sqlite' ? SQLITE_TYPES[bare.toUpperCase()] : PG_TYPES[bare];
  return known ?? `unmapped ${SHOWN[backend]} type "${declared}"`;
}

/** A column's default when the database assigns ids itself (identity, AUTOINCREMENT). */
const GENERATED_ID = 'generated id';

interface Column {
  name: string;
  type: string;
  notNull: boolean;
  default: string | null;
}
interface Index {
  name: string;
  unique: boolean;
  method: string;
  columns: string[];
  where: string | null;
}
interface ForeignKey {
  columns: string[];
  table: string;
  references: string[];
  actions: string;
}
interface Table {
  name: string;
  columns: Column[];
  primaryKey: string[];
  uniques: string[][];
  indexes: Index[];
  foreignKeys: ForeignKey[];
}

// ---- SQLite ------------------------------------------------------------------------------

/** SQLite keeps a default as written: `0`, `'[]'`. */
function sqliteDefault(raw: string | null): string | null {
  return raw === null || /^null$/i.test(raw.trim()) ? null : raw.trim();
}

/** The WHERE of a CREATE INDEX statement: what follows the parenthesised column list. */
function indexWhere(sql: string): string | null {
  const open = sql.indexOf('(', sql.search(/\sON\s/i));
  let depth = 0;
  for (let i = open; i < sql.length; i++) {
    if (sql[i] === '(') depth++;
    if (sql[i] === ')' && --depth === 0) {
      const rest = sql.slice(i + 1).trim();
      return rest === '' ? null : rest.replace(/^WHERE\s+/i, '');
    }
  }
  return null;
}

function readSqlite(db: Database.Database): Table[] {
  const all = <T>(sql: string, ...params: string[]): T[] => db.prepare(sql).all(...params) as T[];
  // sqlite_sequence and the like belong to SQLite itself, not to the migrations.
  const tables = all<{ name: string; sql: string }>(
    "SELECT name, sql FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
  );
  return tables.map(({ name, sql }) => {
    const info = all<{
      name: string;
      type: string;
      notnull: number;
      dflt_value: string | null;
      pk: number;
    }>('SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?) ORDER BY cid', name);
    const primaryKey = info
      .filter((c) => c.pk > 0)
      .sort((a, b) => a.pk - b.pk)
      .map((c) => c.name);
    // A lone INTEGER PRIMARY KEY is the rowid: assigned by SQLite, and never reused only with
    // AUTOINCREMENT (as PostgreSQL's identity never reuses one).
    const rowid =
      primaryKey.length === 1 && info.find((c) => c.pk === 1)?.type.toUpperCase() === 'INTEGER';
    const columns = info.map((c) => ({
      name: c.name,
      type: typeClass('sqlite', c.type),
      // PRIMARY KEY means NOT NULL in SQL and in PostgreSQL. SQLite's table_info does not say so
      // (and keeps a compatibility quirk: a non-INTEGER key of a rowid table accepts NULL unless
      // it is declared NOT NULL), so a key column counts as NOT NULL, as the migrations mean it.
      notNull: c.notnull === 1 || c.pk > 0,
      default:
        rowid && c.pk === 1
          ? /\bAUTOINCREMENT\b/i.test(sql)
            ? GENERATED_ID
            : 'rowid (a deleted last id can be reused)'
          : sqliteDefault(c.dflt_value),
    }));
    const uniques: string[][] = [];
    const indexes: Index[] = [];
    const list = all<{ name: string; unique: number; origin: string; partial: number }>(
      'SELECT name, "unique", origin, partial FROM pragma_index_list(?)',
      name,
    );
    for (const ix of list) {
      if (ix.origin === 'pk') continue; // compared as the primary key
      const keys = all<{ cid: number; name: string | null; desc: number }>(
        'SELECT cid, name, "desc" FROM pragma_index_xinfo(?) WHERE key = 1 ORDER BY seqno',
        ix.name,
      ).map((k, i) =>
        k.cid === -2 || k.name === null
          ? `expression #${i + 1} (not compared: teach schema-parity.test.ts to read it)`
          : `${k.name}${k.desc ? ' DESC' : ''}`,
      );
      if (ix.origin === 'u') {
        uniques.push(keys);
        continue;
      }
      const created = all<{ sql: string }>(
        "SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = ?",
        ix.name,
      )[0];
      indexes.push({
        name: ix.name,
        unique: ix.unique === 1,
        method: 'btree',
        columns: keys,
        where: ix.partial && created ? indexWhere(created.sql) : null,
      });
    }
    const fks = all<{
      id: number;
      table: string;
      from: string;
      to: string | null;
      on_update: string;
      on_delete: string;
    }>(
      'SELECT id, "table", "from", "to", on_update, on_delete FROM pragma_foreign_key_list(?) ORDER BY id, seq',
      name,
    );
    const foreignKeys = [...new Set(fks.map((f) => f.id))].map((id) => {
      const parts = fks.filter((f) => f.id === id);
      const first = parts[0] as (typeof parts)[number];
      return {
        columns: parts.map((p) => p.from),
        table: first.table,
        // REFERENCES t without columns means t's primary key.
        references: parts.map((p) => p.to ?? '(its primary key)'),
        actions: `ON DELETE ${first.on_delete} ON UPDATE ${first.on_update}`,
      };
    });
    return { name, columns, primaryKey, uniques, indexes, foreignKeys };
  });
}

// ---- PostgreSQL --------------------------------------------------------------------------

/** PostgreSQL writes a literal's type after it: `'[]'::text`, `'-1'::integer`. */
function pgDefault(raw: string | null): string | null {
  if (raw === null) return null;
  if (/^nextval\(/.test(raw)) return GENERATED_ID;
  const number = /^'(-?[0-9.]+)'::(smallint|integer|bigint|numeric|real|double precision)$/.exec(
    raw,
  );
  if (number) return number[1] ?? raw;
  const d = raw.replace(/::[a-z ]+(\[\])?$/, '');
  return /^null$/i.test(d) ? null : d;
}

const PG_ACTIONS: Record<string, string> = {
  a: 'NO ACTION',
  r: 'RESTRICT',
  c: 'CASCADE',
  n: 'SET NULL',
  d: 'SET DEFAULT',
};

async function readPg(client: pg.Client, schema: string): Promise<Table[]> {
  const rows = async <T extends pg.QueryResultRow>(sql: string): Promise<T[]> =>
    (await client.query<T>(sql, [schema])).rows;
  const tables = await rows<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') ORDER BY c.relname`,
  );
  const columns = await rows<{
    tbl: string;
    name: string;
    type: string;
    not_null: boolean;
    identity: string;
    col_default: string | null;
  }>(
    `SELECT c.relname AS tbl, a.attname AS name, format_type(a.atttypid, NULL) AS type,
            a.attnotnull AS not_null, a.attidentity AS identity,
            pg_get_expr(d.adbin, d.adrelid) AS col_default
     FROM pg_attribute a
     JOIN pg_class c ON c.oid = a.attrelid
     JOIN pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
     WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
     ORDER BY a.attnum`,
  );
  const names = (rel: string, keys: string): string =>
    `ARRAY(SELECT a.attname::text FROM unnest(${keys}) WITH ORDINALITY k(num, ord)
           JOIN pg_attribute a ON a.attrelid = ${rel} AND a.attnum = k.num ORDER BY k.ord)`;
  const constraints = await rows<{
    tbl: string;
    kind: string;
    columns: string[];
    ref_table: string | null;
    ref_columns: string[] | null;
    on_delete: string;
    on_update: string;
  }>(
    `SELECT t.relname AS tbl, con.contype AS kind, ${names('con.conrelid', 'con.conkey')} AS columns,
            f.relname AS ref_table, ${names('con.confrelid', 'con.confkey')} AS ref_columns,
            con.confdeltype AS on_delete, con.confupdtype AS on_update
     FROM pg_constraint con
     JOIN pg_class t ON t.oid = con.conrelid
     JOIN pg_namespace n ON n.oid = t.relnamespace
     LEFT JOIN pg_class f ON f.oid = con.confrelid
     WHERE n.nspname = $1 AND con.contype IN ('p', 'u', 'f')
     ORDER BY con.conname`,
  );
  // Indexes of their own: not the ones a primary key or unique constraint made.
  const indexes = await rows<{
    tbl: string;
    name: string;
    is_unique: boolean;
    method: string;
    predicate: string | null;
    columns: string[];
  }>(
    `SELECT t.relname AS tbl, i.relname AS name, x.indisunique AS is_unique, am.amname AS method,
            pg_get_expr(x.indpred, x.indrelid) AS predicate,
            ARRAY(SELECT CASE WHEN x.indkey[k] = 0 THEN 'expression ' ELSE '' END
                         || pg_get_indexdef(x.indexrelid, k + 1, true)
                         || CASE WHEN x.indoption[k] & 1 = 1 THEN ' DESC' ELSE '' END
                         || CASE WHEN k >= x.indnkeyatts THEN ' (INCLUDE)' ELSE '' END
                  FROM generate_series(0, x.indnatts - 1) k ORDER BY k) AS columns
     FROM pg_index x
     JOIN pg_class i ON i.oid = x.indexrelid
     JOIN pg_class t ON t.oid = x.indrelid
     JOIN pg_namespace n ON n.oid = t.relnamespace
     JOIN pg_am am ON am.oid = i.relam
     WHERE n.nspname = $1 AND NOT EXISTS (
       SELECT 1 FROM pg_constraint con
       WHERE con.conindid = x.indexrelid AND con.conrelid = x.indrelid AND con.contype IN ('p', 'u', 'x'))
     ORDER BY i.relname`,
  );
  return tables.map(({ name }) => {
    const mine = constraints.filter((c) => c.tbl === name);
    return {
      name,
      columns: columns
        .filter((c) => c.tbl === name)
        .map((c) => ({
          name: c.name,
          type: typeClass('postgres', c.type),
          notNull: c.not_null,
          default: c.identity !== '' ? GENERATED_ID : pgDefault(c.col_default),
        })),
      primaryKey: mine.find((c) => c.kind === 'p')?.columns ?? [],
      uniques: mine.filter((c) => c.kind === 'u').map((c) => c.columns),
      indexes: indexes
        .filter((ix) => ix.tbl === name)
        .map((ix) => ({
          name: ix.name,
          unique: ix.is_unique,
          method: ix.method,
          columns: ix.columns,
          where: ix.predicate,
        })),
      foreignKeys: mine
        .filter((c) => c.kind === 'f')
        .map((c) => ({
          columns: c.columns,
          table: c.ref_table ?? '?',
          references: c.ref_columns ?? [],
          actions: `ON DELETE ${PG_ACTIONS[c.on_delete] ?? c.on_delete} ON UPDATE ${PG_ACTIONS[c.on_update] ?? c.on_update}`,
        })),
    };
  });
}

/**
 * Puts SQLite's partial-index predicates in PostgreSQL's words, so both sides are compared in
 * one normal form (parentheses, `<>`, `NOT IN` as `<> ALL (ARRAY[...])`, literal types): each
 * predicate is given to PostgreSQL on a throwaway index of the same table, read back with
 * pg_get_expr and rolled back. A predicate PostgreSQL cannot read is kept as written, and so
 * never matches.
 */
async function inPgWords(client: pg.Client, schema: string, tables: Table[]): Promise<void> {
  for (const table of tables) {
    for (const ix of table.indexes) {
      if (ix.where === null) continue;
      const column = table.columns[0]?.name ?? '';
      await client.query('BEGIN');
      try {
        await client.query(
          `CREATE INDEX schema_parity_probe ON "${schema}"."${table.name}" ("${column}") WHERE ${ix.where}`,
        );
        const read = await client.query<{ predicate: string }>(
          `SELECT pg_get_expr(indpred, indrelid) AS predicate FROM pg_index
           WHERE indexrelid = $1::regclass`,
          [`"${schema}".schema_parity_probe`],
        );
        ix.where = read.rows[0]?.predicate ?? ix.where;
      } catch (err) {
        ix.where = `${ix.where} (as SQLite has it; PostgreSQL cannot read it: ${(err as Error).message})`;
      } finally {
        await client.query('ROLLBACK');
      }
    }
  }
}

// ---- Comparing ---------------------------------------------------------------------------

/** A schema as facts: `table: what` → how it is, in words both backends share. */
function facts(tables: Table[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const t of tables) {
    out.set(`${t.name}: table`, 'exists');
    for (const c of t.columns) {
      const parts = [c.type, c.notNull ? 'NOT NULL' : 'NULL'];
      if (c.default !== null) parts.push(`DEFAULT ${c.default}`);
      out.set(`${t.name}: column ${c.name}`, parts.join(' '));
    }
    out.set(
      `${t.name}: primary key`,
      t.primaryKey.length ? `(${t.primaryKey.join(', ')})` : 'none',
    );
    for (const u of t.uniques) out.set(`${t.name}: UNIQUE (${u.join(', ')})`, 'constraint');
    for (const f of t.foreignKeys) {
      out.set(
        `${t.name}: FOREIGN KEY (${f.columns.join(', ')})`,
        `REFERENCES ${f.table} (${f.references.join(', ')}) ${f.actions}`,
      );
    }
    for (const ix of t.indexes) {
      const where = ix.where === null ? '' : ` WHERE ${ix.where}`;
      out.set(
        `${t.name}: index ${ix.name}`,
        `${ix.unique ? 'UNIQUE ' : ''}${ix.method} (${ix.columns.join(', ')})${where}`,
      );
    }
  }
  return out;
}

function allowListed(backend: Backend, key: string): boolean {
  return ONE_BACKEND_ONLY.some(
    (e) =>
      e.backend === backend &&
      (e.index !== undefined
        ? key === `${e.table}: index ${e.index}`
        : e.column === undefined
          ? key.startsWith(`${e.table}: `)
          : key === `${e.table}: column ${e.column}`),
  );
}

/** One readable line per difference, allow-listed ones left out. */
function differences(sqlite: Map<string, string>, postgres: Map<string, string>): string[] {
  const keys = [...new Set([...sqlite.keys(), ...postgres.keys()])].sort();
  const out: string[] = [];
  for (const key of keys) {
    const s = sqlite.get(key);
    const p = postgres.get(key);
    if (s === p) continue;
    if (p === undefined) {
      if (!allowListed('sqlite', key)) out.push(`${key}: only in SQLite (${s})`);
    } else if (s === undefined) {
      if (!allowListed('postgres', key)) out.push(`${key}: only in PostgreSQL (${p})`);
    } else {
      out.push(`${key}: SQLite ${s} | PostgreSQL ${p}`);
    }
  }
  return out;
}

// ---- The tests ---------------------------------------------------------------------------

const schema = `warden_parity_${randomBytes(6).toString('hex')}`;
let sqliteTables: Table[] = [];
let pgTables: Table[] = [];

beforeAll(async () => {
  if (!URL) return;
  const dir = mkdtempSync(join(tmpdir(), 'warden-parity-'));
  try {
    const lite = await openSqliteStore(join(dir, 'warden.db'), new ManualClock(), {
      create: true,
    });
    sqliteTables = readSqlite(lite.sqlite.connection);
    await lite.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const store = await openPgStore({ url: URL, schema, max: 1 }, new ManualClock());
  await store.close();
  const client = new pg.Client({ connectionString: URL });
  await client.connect();
  try {
    pgTables = await readPg(client, schema);
    await inPgWords(client, schema, sqliteTables);
  } finally {
    await client.end();
  }
});

afterAll(async () => {
  if (!URL) return;
  const client = new pg.Client({ connectionString: URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
});

describe('the SQLite and PostgreSQL migrations', () => {
  it('describe one schema: tables, columns, keys, foreign keys and indexes', ({ skip }) => {
    skip(!URL, NO_PG);
    expect(
      differences(facts(sqliteTables), facts(pgTables)),
      'the SQLite and PostgreSQL migrations have drifted apart',
    ).toEqual([]);
  });

  it('are both read in full: every kind of fact compared is found on each side', ({ skip }) => {
    skip(!URL, NO_PG);
    // Two readers that found nothing would agree; each must see what the migrations declare.
    const column = (k: string): boolean => k.includes(': column ');
    const index = (k: string): boolean => k.includes(': index ');
    const kinds: [string, (key: string, value: string) => boolean][] = [
      ['a generated id', (k, v) => column(k) && v.endsWith(GENERATED_ID)],
      ['a nullable column', (k, v) => column(k) && / NULL/.test(v) && !/NOT NULL/.test(v)],
      ['a default', (k, v) => column(k) && v.includes(' DEFAULT ')],
      ['a composite primary key', (k, v) => k.endsWith(': primary key') && v.includes(',')],
      ['a unique constraint', (k) => k.includes(': UNIQUE (')],
      ['a foreign key', (k) => k.includes(': FOREIGN KEY (')],
      ['a descending index column', (k, v) => index(k) && v.includes(' DESC')],
      ['a unique index', (k, v) => index(k) && v.startsWith('UNIQUE ')],
      ['a partial index', (k, v) => index(k) && v.includes(' WHERE (')],
    ];
    for (const [backend, tables] of [
      ['sqlite', sqliteTables],
      ['postgres', pgTables],
    ] as const) {
      const found = [...facts(tables)];
      const missing = kinds
        .filter(([, test]) => !found.some(([k, v]) => test(k, v)))
        .map(([what]) => what);
      if (tables.length < 10) missing.push(`ten tables (found ${tables.length})`);
      expect(missing, `not found in the ${SHOWN[backend]} catalog`).toEqual([]);
    }
  });

  it('differ only where the allow-list says, and every entry of it still holds', ({ skip }) => {
    skip(!URL, NO_PG);
    const has = (tables: Table[], e: (typeof ONE_BACKEND_ONLY)[number]): boolean => {
      const t = tables.find((x) => x.name === e.table);
      if (t === undefined) return false;
      if (e.index !== undefined) return t.indexes.some((ix) => ix.name === e.index);
      return e.column === undefined || t.columns.some((c) => c.name === e.column);
    };
    const stale = ONE_BACKEND_ONLY.filter((e) => {
      const own = e.backend === 'sqlite' ? sqliteTables : pgTables;
      const other = e.backend === 'sqlite' ? pgTables : sqliteTables;
      return !has(own, e) || has(other, e) || e.why.trim() === '';
    }).map((e) => `${e.table}${e.column ? `.${e.column}` : ''} (${SHOWN[e.backend]} only)`);
    expect(stale, 'allow-list entries that no longer describe the schemas').toEqual([]);
  });
});
