/**
 * Real file systems for storage tests: a small tmpfs that can be filled (a full disk) or
 * remounted read-only (a read-only home). Mounting needs root (the tests run as root in the
 * CI's VM); `canMount()` says whether this machine allows it, so tests skip with the reason.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function mount(args: readonly string[]): void {
  execFileSync('mount', args, { stdio: 'pipe' });
}

let allowed: boolean | undefined;

/** Whether this process may mount a tmpfs (root, with `mount` available). */
export function canMount(): boolean {
  if (allowed !== undefined) return allowed;
  const dir = mkdtempSync(join(tmpdir(), 'warden-mount-probe-'));
  try {
    mount(['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir]);
    execFileSync('umount', [dir], { stdio: 'pipe' });
    allowed = true;
  } catch {
    allowed = false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return allowed;
}

/** A tmpfs of `bytes` mounted on a new folder; `remount` flips it read-only or back. */
export interface Tmpfs {
  readonly dir: string;
  remount(mode: 'ro' | 'rw'): void;
  /** Unmounts and removes the folder. */
  remove(): void;
}

/** Mounts a tmpfs of `bytes` (size rounds up to whole pages). */
export function mountTmpfs(bytes: number): Tmpfs {
  const dir = mkdtempSync(join(tmpdir(), 'warden-tmpfs-'));
  mount(['-t', 'tmpfs', '-o', `size=${bytes},mode=0755`, 'tmpfs', dir]);
  return {
    dir,
    remount: (mode) => mount(['-o', `remount,${mode}`, dir]),
    remove: () => {
      execFileSync('umount', [dir], { stdio: 'pipe' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
