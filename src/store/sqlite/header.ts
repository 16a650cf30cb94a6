import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';

/** The first 16 bytes of every SQLite database file. */
const MAGIC = Buffer.from('SQLite format 3\0', 'latin1');
/** The length of a SQLite file's header. */
export const HEADER_BYTES = 100;

/** What the header of a SQLite file says. */
export interface SqliteHeader {
  /** Bytes in the file. */
  size: number;
  pageSize: number;
  /** Whether the file is in WAL mode (opening it read-write in WAL mode writes nothing). */
  wal: boolean;
}

/** The header check's verdict: the header, or what is wrong with the file, in words. */
export type HeaderVerdict = { ok: true; header: SqliteHeader } | { ok: false; problem: string };

function readHeader(path: string, size: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(Math.min(size, HEADER_BYTES));
    readSync(fd, buf, 0, buf.length, 0);
    return buf;
  } finally {
    closeSync(fd);
  }
}

/**
 * Checks a SQLite file's header without opening it as a database, so nothing (not SQLite's
 * own first write to an empty file) can touch it: a file that is empty or shorter than the
 * header, or whose header is not SQLite's, is refused before any connection is made. Costs one
 * 100-byte read. The size is checked against the page size only when no `-wal` file is beside
 * it: a checkpoint under way writes page 1 before it extends the file.
 */
export function checkSqliteHeader(path: string): HeaderVerdict {
  const stat = statSync(path);
  if (!stat.isFile()) return { ok: false, problem: 'it is not a regular file' };
  const size = stat.size;
  if (size === 0) return { ok: false, problem: 'the file is empty (0 bytes)' };
  if (size < HEADER_BYTES) {
    return {
      ok: false,
      problem: `the file is ${size} bytes, shorter than a SQLite header (${HEADER_BYTES})`,
    };
  }
  const buf = readHeader(path, size);
  if (!buf.subarray(0, MAGIC.length).equals(MAGIC)) {
    return { ok: false, problem: 'its first 16 bytes are not "SQLite format 3\\0"' };
  }
  const raw = buf.readUInt16BE(16);
  const pageSize = raw === 1 ? 65_536 : raw;
  if (pageSize < 512 || (pageSize & (pageSize - 1)) !== 0) {
    return { ok: false, problem: `its header gives an impossible page size (${raw})` };
  }
  const write = buf[18];
  const read = buf[19];
  if ((write !== 1 && write !== 2) || (read !== 1 && read !== 2)) {
    return { ok: false, problem: 'its header gives an unknown file format version' };
  }
  // SQLite requires these payload fractions to be exactly 64, 32 and 32.
  if (buf[21] !== 64 || buf[22] !== 32 || buf[23] !== 32) {
    return { ok: false, problem: 'its header has damaged payload fractions' };
  }
  if (!existsSync(`${path}-wal`) && size % pageSize !== 0) {
    return {
      ok: false,
      problem: `the file is ${size} bytes, not a whole number of ${pageSize}-byte pages (truncated?)`,
    };
  }
  return { ok: true, header: { size, pageSize, wal: write === 2 && read === 2 } };
}
