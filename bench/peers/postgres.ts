/**
 * The machine's PostgreSQL, shared by the pg-boss and graphile-worker rounds: each round gets
 * a schema of its own, and this process's own connection counts jobs, reads the durability
 * settings and drops the schema afterwards.
 */
import pg from 'pg';

/** The local server (trust auth). */
export const PG_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/** A connection of the benchmark's own, beside the library's pool. */
export class BenchDb {
  private readonly client = new pg.Client({ connectionString: PG_URL });

  async open(): Promise<void> {
    await this.client.connect();
  }

  /** The one integer a query returns (`select count(*)::int ...`). */
  async number(sql: string, params: unknown[] = []): Promise<number> {
    const result = await this.client.query<{ n: number }>(sql, params);
    return result.rows[0]?.n ?? Number.NaN;
  }

  /**
   * What makes a commit durable here: the server's `fsync` and `synchronous_commit`, and how
   * many of the schema's tables are unlogged (written without the WAL, lost on a crash).
   */
  async durability(schema: string): Promise<string> {
    const settings = await this.client.query<{ name: string; setting: string }>(
      "select name, setting from pg_settings where name in ('fsync', 'synchronous_commit', 'server_version') order by name",
    );
    const s = Object.fromEntries(settings.rows.map((r) => [r.name, r.setting]));
    const tables = await this.client.query<{ total: number; unlogged: number }>(
      `select count(*)::int as total, count(*) filter (where c.relpersistence = 'u')::int as unlogged
         from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = $1 and c.relkind in ('r', 'p')`,
      [schema],
    );
    const t = tables.rows[0];
    return (
      `PostgreSQL ${s.server_version}, fsync=${s.fsync}, synchronous_commit=${s.synchronous_commit}; ` +
      `${t?.unlogged ?? '?'} of the schema's ${t?.total ?? '?'} tables unlogged`
    );
  }

  async dropSchema(schema: string): Promise<void> {
    await this.client.query(`drop schema if exists "${schema}" cascade`);
  }

  async close(): Promise<void> {
    await this.client.end();
  }
}
