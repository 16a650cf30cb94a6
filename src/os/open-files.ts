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
 * The processes other than this one that have any of `paths` open, from their file
 * descriptors in /proc (Linux). Processes this user may not look into are not seen: run as the
 * home's owner. Used before replacing a database under them (`warden restore`).
 */
export function processesHolding(paths: readonly string[]): Holder[] {
  const wanted = new Set(paths);
  const found: Holder[] = [];
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return [];
  }
  for (const name of pids) {
    const pid = Number(name);
    if (pid === process.pid) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      if (wanted.has(target)) {
        found.push({ pid, command: commandOf(pid) });
        break;
      }
    }
  }
  return found;
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
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EACCES';
  }
  for (const fd of fds) {
    try {
      const st = statSync(`/proc/${pid}/fd/${fd}`);
      if (st.dev === target.dev && st.ino === target.ino) return true;
    } catch {
      // Closed since the listing.
    }
  }
  return false;
}
