import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg, release, totalmem, tmpdir } from 'node:os';

function osName(): string {
  try {
    const text = readFileSync('/etc/os-release', 'utf8');
    return /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text)?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function cpuModel(): string {
  try {
    const text = readFileSync('/proc/cpuinfo', 'utf8');
    return /^model name\s*:\s*(.*)$/m.exec(text)?.[1]?.trim() ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Where the temp homes live, and the filesystem under them (fsync cost depends on it). */
function tmpFilesystem(): string {
  try {
    const mounts = readFileSync('/proc/mounts', 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(' '))
      .filter((f) => f[1] !== undefined && tmpdir().startsWith(f[1]))
      .sort((a, b) => (b[1]?.length ?? 0) - (a[1]?.length ?? 0));
    const m = mounts[0];
    return m ? `${tmpdir()} on ${m[0]} (${m[2]})` : tmpdir();
  } catch {
    return tmpdir();
  }
}

/** The commit measured, marked `+changes` when the working tree differs from it. */
function commit(): string {
  const git = (args: string[]): string =>
    execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    const head = git(['rev-parse', '--short', 'HEAD']);
    return git(['status', '--porcelain', '--untracked-files=no']) === '' ? head : `${head}+changes`;
  } catch {
    return 'unknown';
  }
}

/** The machine the numbers were taken on. */
export function machine(): Record<string, string> {
  return {
    cpus: String(availableParallelism()),
    cpu_model: cpuModel(),
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    node: process.version,
    os: `${osName()}, Linux ${release()}`,
    temp_homes: tmpFilesystem(),
    commit: commit(),
    // Other work on a small machine moves the tails; the load says how busy it was.
    load_average: loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
  };
}
