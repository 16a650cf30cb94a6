import { closeSync, fdatasync, fdatasyncSync, openSync } from 'node:fs';
import { promisify } from 'node:util';
import { syncFailedError } from '../storage-errors.js';

/** `fdatasync` of a descriptor on libuv's thread pool. */
const datasyncLater = promisify(fdatasync);

/**
 * Puts a WAL database's committed transactions on disk: an `fdatasync` of the `-wal` file,
 * run on libuv's thread pool while the event loop goes on (`later`), or on the spot (`now`),
 * which answers sooner when nothing else waits (group-commit.ts chooses). The writer
 * connection commits with `synchronous=NORMAL` (SQLite writes the WAL frames and does not
 * sync them), and nobody is answered before the sync that follows the commit has returned,
 * so an acknowledged write is on disk as it was with `synchronous=FULL`, whose fsync held the
 * one thread at every commit while requests waited to be read.
 *
 * The file is opened once, at the first sync (SQLite creates it with the first write), and
 * stays the same file while this process has the database open: SQLite removes or replaces
 * the WAL only when the last connection closes or the journal mode changes, and warden's
 * writer connection is open until the store closes and never leaves WAL mode.
 */
export class WalSync {
  private fd: number | null = null;

  constructor(private readonly dbPath: string) {}

  /** Everything written to the WAL so far is on disk when this resolves. */
  async later(): Promise<void> {
    try {
      await datasyncLater(this.open());
    } catch (err) {
      throw syncFailedError(this.dbPath, err);
    }
  }

  /** Everything written to the WAL so far is on disk when this returns (it blocks). */
  now(): void {
    try {
      fdatasyncSync(this.open());
    } catch (err) {
      throw syncFailedError(this.dbPath, err);
    }
  }

  private open(): number {
    this.fd ??= openSync(`${this.dbPath}-wal`, 'r');
    return this.fd;
  }

  /** Closes the file; only once no sync is running (the store has drained). */
  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
