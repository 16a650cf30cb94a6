import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { invalid } from '../core/errors.js';

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The path `command` runs from, searching PATH when it names no folder; null if none. */
export function findExecutable(command: string, pathVar = process.env.PATH ?? ''): string | null {
  if (command.includes('/')) return isExecutableFile(command) ? command : null;
  for (const dir of pathVar.split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, command);
    if (isExecutableFile(candidate)) return candidate;
  }
  return null;
}

/**
 * Why `command` cannot be run, as the operating system would say it: `EACCES` when a file of
 * that name is there but is not an executable file, `ENOENT` when there is none.
 */
export function notExecutableCode(
  command: string,
  pathVar = process.env.PATH ?? '',
): 'ENOENT' | 'EACCES' {
  const candidates = command.includes('/')
    ? [command]
    : pathVar
        .split(delimiter)
        .filter((dir) => dir !== '')
        .map((dir) => join(dir, command));
  for (const candidate of candidates) {
    try {
      statSync(candidate);
      return 'EACCES';
    } catch {
      // Not here; look on.
    }
  }
  return 'ENOENT';
}

/**
 * Checks, on this machine, that a profile's command and working folder exist, so a typo is
 * caught when the profile is written instead of at every spawn.
 */
export function checkProfileOnThisHost(argv: readonly string[], cwd: string | undefined): void {
  const command = argv[0];
  if (command !== undefined && findExecutable(command) === null) {
    throw invalid(
      `command '${command}' was not found${command.includes('/') ? ' or is not executable' : ' on PATH'}; give a full path, install it, or pass --no-check if it exists only on other hosts`,
    );
  }
  if (cwd !== undefined && cwd !== 'workspace') {
    if (!isAbsolute(cwd)) throw invalid(`--cwd: '${cwd}' must be 'workspace' or an absolute path`);
    let isDir: boolean;
    try {
      isDir = statSync(cwd).isDirectory();
    } catch {
      isDir = false;
    }
    if (!isDir) {
      throw invalid(`--cwd: '${cwd}' is not a folder on this host; create it or pass --no-check`);
    }
  }
}
