import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Runs git in `cwd` and gives its output, trimmed. */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();
}

/** A repository in a temp folder with one commit (README) on main; the caller removes it. */
export function makeRepo(): string {
  const dir = mkdtempSync(join(tmpdir(), 'warden-repo-'));
  git(dir, 'init', '-q', '-b', 'main');
  writeFileSync(join(dir, 'README'), 'hello\n');
  git(dir, 'add', 'README');
  git(dir, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'first');
  return dir;
}

/**
 * A repository (as `makeRepo`, the caller removes it) whose `data.bin` passes through a smudge
 * filter on checkout, as Git LFS's does: the filter writes its pid to `started`, then copies
 * its input, after 10 minutes unless the file `fast` exists. Its files are in `dir`.
 */
export function slowCheckoutRepo(dir: string): { repo: string; started: string; fast: string } {
  const repo = makeRepo();
  const started = join(dir, 'filter.pid');
  const fast = join(dir, 'fast');
  const filter = join(dir, 'slow-smudge');
  writeFileSync(filter, `#!/bin/sh\necho $$ > ${started}\n[ -f ${fast} ] || sleep 600\nexec cat\n`);
  chmodSync(filter, 0o755);
  writeFileSync(join(repo, '.gitattributes'), '*.bin filter=slow\n');
  writeFileSync(join(repo, 'data.bin'), 'the whole file\n');
  git(repo, 'add', '.');
  git(repo, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'data');
  git(repo, 'config', 'filter.slow.smudge', filter);
  return { repo, started, fast };
}
