import { readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';

/** A process that holds a file open. */
export interface Holder {
  pid: number;
  /** Its command line, for messages. */
  command: string;
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return '?';
  }
}

/**
 * Whether any open file of process `pid` is one `matches` takes (given `/proc/PID/fd/N`; a
 * descriptor closed meanwhile is not), or the error code when its descriptors cannot be read.
 */
function anyOpen(pid: number, matches: (fd: string) => boolean): boolean | string {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? 'EIO';
  }
  return fds.some((fd) => {
    try {
      return matches(`/proc/${pid}/fd/${fd}`);
    } catch {
      return false;
    }
  });
}

/**
 * The processes other than this one that have any of `paths` open, from their file
 * descriptors in /proc (Linux). Processes this user may not look into are not seen: run as the
 * home's owner. Used before replacing a database under them (`warden restore`).
 */
export function processesHolding(paths: readonly string[]): Holder[] {
  const wanted = new Set(paths);
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return [];
  }
  return pids
    .map(Number)
    .filter(
      (pid) => pid !== process.pid && anyOpen(pid, (fd) => wanted.has(readlinkSync(fd))) === true,
    )
    .map((pid) => ({ pid, command: commandOf(pid) }));
}

/**
 * Whether process `pid` has `file` open, by its file descriptors, compared by device and inode
 * (a path spelt otherwise, through a symlink, a bind mount or another mount namespace, is the
 * same file). A process whose descriptors this user may not read counts as holding it
 * (nothing is known against it); a file that is not there is held by no one.
 */
export function holdsOpen(pid: number, file: string): boolean {
  let target: { dev: number; ino: number };
  try {
    target = statSync(file);
  } catch {
    return false;
  }
  const held = anyOpen(pid, (fd) => {
    const st = statSync(fd);
    return st.dev === target.dev && st.ino === target.ino;
  });
  return held === true || held === 'EACCES';
}
