import { closeSync, mkdtempSync, openSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { holdsOpen } from '../../src/os/open-files.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/**
 * Whether a process holds a file is asked of the file, not of how its path is spelt: a home
 * reached through a symlink (or a bind mount) is the same home, and its serve still holds it.
 */
it('knows a file held open by its device and inode, whatever path names it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-holds-'));
  dirs.push(dir);
  const db = join(dir, 'warden.db');
  const other = join(dir, 'other.db');
  writeFileSync(db, 'x');
  writeFileSync(other, 'y');
  symlinkSync(dir, join(dir, 'link'));
  const fd = openSync(db, 'r');
  try {
    expect(holdsOpen(process.pid, db)).toBe(true);
    expect(holdsOpen(process.pid, join(dir, 'link', 'warden.db'))).toBe(true);
    expect(holdsOpen(process.pid, other)).toBe(false);
    expect(holdsOpen(process.pid, join(dir, 'missing.db'))).toBe(false);
  } finally {
    closeSync(fd);
  }
  expect(holdsOpen(process.pid, db)).toBe(false);
});
