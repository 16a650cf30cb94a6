import type { SqlDb } from './driver.js';

/** The tables whose ids name folders of a home: `runs/ID`, `workspaces/ID`, `worktrees/ID`. */
export type FolderTable = 'runs' | 'tasks';

/**
 * Makes the next id of `table` greater than `floor` (the highest id a folder of this home is
 * named by), if it is not already; whether it moved. Ids go backwards only when the database
 * is put back from a backup (`pg_restore`, a copied file): a new run would then take the id,
 * and with it the folder, of a run made after the backup, whose worker may still be writing
 * there. Only ever raised, and only while it is below (on PostgreSQL one id is left unused
 * when it is not).
 */
export async function keepIdPast(db: SqlDb, table: FolderTable, floor: number): Promise<boolean> {
  if (floor <= 0) return false;
  if (db.dialect === 'postgres') {
    // The sequence's next value, taken (one id left unused), is what it would give: its last
    // value read instead is null before its first use, and a sequence put back as "next is
    // 900, not yet given" was read as 0 and set back to the floor. Set only when below the
    // floor: at the floor, taking it moved the sequence past it already (a set back to it then
    // would give the next id twice, with a concurrent one).
    const seq = `pg_get_serial_sequence('${table}', 'id')`;
    const next = Number(
      (await db.get<{ next: string }>(`SELECT nextval(${seq})::text AS next`))?.next,
    );
    if (next < floor) await db.get(`SELECT setval(${seq}, ?)`, [floor]);
    return next <= floor;
  }
  // SQLite (AUTOINCREMENT): the next id is past both the table's largest and sqlite_sequence.
  const row = await db.get<{ seq: number }>(
    `SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = ?), 0),
                COALESCE((SELECT MAX(id) FROM ${table}), 0)) AS seq`,
    [table],
  );
  if ((row?.seq ?? 0) >= floor) return false;
  const updated = await db.run('UPDATE sqlite_sequence SET seq = ? WHERE name = ?', [floor, table]);
  if (updated === 0)
    await db.run('INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)', [table, floor]);
  return true;
}
