/**
 * A writer that commits into a database's WAL and is then SIGKILLed, as a crashed process
 * would: it leaves `-wal` (holding the commit, never checkpointed) and `-shm` beside the file.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess, ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

/** A live writer that has committed `sql` and holds the database open until killed. */
export async function startWalWriter(
  db: string,
  sql: string,
): Promise<ChildProcessByStdio<null, Readable, null>> {
  const sqlite = fileURLToPath(import.meta.resolve('better-sqlite3'));
  const writer = spawn(
    process.execPath,
    [
      '-e',
      `const D = require(${JSON.stringify(sqlite)}); const db = new D(${JSON.stringify(db)});
       db.pragma('wal_autocheckpoint = 0'); db.prepare(${JSON.stringify(sql)}).run();
       process.stdout.write('ready\\n'); setInterval(() => {}, 1000);`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve) => writer.stdout.once('data', () => resolve()));
  return writer;
}

/** Kills the writer with SIGKILL and waits for it to be gone. */
export async function killWriter(writer: ChildProcess): Promise<void> {
  const gone = new Promise<void>((resolve) => writer.once('exit', () => resolve()));
  writer.kill('SIGKILL');
  await gone;
}

/** A task row inserted by hand, as a writer outside warden would. */
export function insertTaskSql(title: string): string {
  return `INSERT INTO tasks (board, title, status, created_by, created_at, updated_at) VALUES ('default', '${title}', 'ready', 'person:x', 0, 0)`;
}
