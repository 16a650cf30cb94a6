import { existsSync, statSync } from 'node:fs';
import type { HomePaths } from '../config/home.js';
import { formatDuration } from '../core/duration.js';
import { formatSize } from '../core/size.js';
import type { ServeAddress } from '../serve/find.js';
import { diskSpace } from '../store/storage-errors.js';

/**
 * Free space under which `doctor` says the home's disk is nearly full; on a disk smaller
 * than four times that, a quarter of its size.
 */
export const LOW_DISK_BYTES = 64 * 1024 * 1024;

/**
 * What `doctor` says of the home before its tasks, each a line, when it holds up everything
 * and the tasks' lines cannot show it (a trial found each only in serve's log, or nowhere):
 * a `serve` that is stopped, a disk that is (nearly) full, a config.json edited since `serve`
 * read it at its start (the limits `doctor` shows are the file's as it is now).
 */
export function homeNotes(
  home: HomePaths,
  serve: ServeAddress | null,
  stopped: boolean,
  now: number,
): string[] {
  const notes: string[] = [];
  if (stopped && serve?.process) {
    const pid = serve.process.pid;
    notes.push(
      `serve (pid ${pid}) is stopped (SIGSTOP, Ctrl-Z or a debugger): it watches nothing, starts nothing and answers no worker until it continues: \`kill -CONT ${pid}\``,
    );
  }
  const disk = diskSpace(home.root);
  const low =
    disk === null || disk.size === 0 ? LOW_DISK_BYTES : Math.min(LOW_DISK_BYTES, disk.size / 4);
  if (disk !== null && disk.free < low) {
    const free = disk.free;
    notes.push(
      `the disk of this home (${home.root}) has ${formatSize(free)} free: ${free === 0 ? 'nothing can be written, not the database, nor the runs’ logs and reports' : 'writes to the database and the runs’ logs will soon fail'}; free space (\`warden gc\`, old worktrees, other files)`,
    );
  }
  if (serve?.started_at !== undefined && existsSync(home.config)) {
    const edited = statSync(home.config).mtimeMs;
    if (edited > serve.started_at) {
      notes.push(
        `config.json was changed ${formatDuration(Math.max(0, now - edited))} ago, after serve started: serve still uses the file as it read it then, while the limits below are the file's as it is now; restart serve to apply it`,
      );
    }
  }
  return notes;
}
