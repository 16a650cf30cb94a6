/**
 * How warden runs git (src/git/git.ts over src/os/command.ts), with real git and real helper
 * processes: an ssh that never answers, a hook that leaves a process behind, an abort.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GitError, git } from '../../src/git/git.js';
import { pidAlive } from '../../src/os/procfs.js';
import { makeRepo } from '../helpers/git.js';

const dirs: string[] = [];
const pids: number[] = [];
afterEach(() => {
  for (const pid of pids.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone, as it should be.
    }
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function temp(): string {
  const d = mkdtempSync(join(tmpdir(), 'warden-gitcmd-'));
  dirs.push(d);
  return d;
}

function sessionOf(pid: number): number {
  return Number(execFileSync('ps', ['-o', 'sid=', '-p', String(pid)], { encoding: 'utf8' }));
}

/** Waits for a file a helper writes, then gives its contents. */
async function fileOf(path: string): Promise<string> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const text = readFileSync(path, 'utf8');
      if (text.endsWith('\n')) return text;
    } catch {
      // Not yet.
    }
    if (Date.now() > deadline) throw new Error(`${path} was never written`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * An ssh for git that never answers (as one waiting on a host-key prompt), and that writes its
 * pid and session id first. It keeps git's stderr open, as a real ssh does.
 */
function silentSsh(dir: string): { command: string; said: string } {
  const said = join(dir, 'ssh-said');
  const command = join(dir, 'ssh');
  writeFileSync(command, `#!/bin/sh\necho "$$ $(ps -o sid= -p $$)" > ${said}\nexec sleep 600\n`);
  chmodSync(command, 0o755);
  return { command, said };
}

describe('git', () => {
  it('kills an ssh that never answers with git, at the timeout, and runs it without our terminal', async () => {
    const dir = temp();
    const ssh = silentSsh(dir);
    const from = Date.now();
    const err = await git(
      ['-c', `core.sshCommand=${ssh.command}`, 'ls-remote', 'ssh://nowhere/x'],
      {
        cwd: dir,
        // Long enough for the fake ssh to write what it says first, on a loaded machine.
        timeoutMs: 5_000,
      },
    ).catch((e: unknown) => e);
    const took = Date.now() - from;
    expect(err).toBeInstanceOf(GitError);
    expect((err as GitError).message).toBe('git ls-remote took longer than 5000 ms and was killed');
    // Of the moment, not of the repository: a later try may succeed.
    expect((err as GitError).passing).toBe(true);
    const [pid, sid] = (await fileOf(ssh.said)).trim().split(/\s+/).map(Number);
    pids.push(pid!);
    // Its session is git's own, not the one this test (and serve) runs in: no terminal to prompt on.
    expect(sid).not.toBe(sessionOf(process.pid));
    // Killed with git: the pipe it held is not what ended the wait.
    expect(pidAlive(pid!)).toBe(false);
    expect(took).toBeLessThan(30_000);
  });

  it('stops at an abort, saying so, and kills what git started', async () => {
    const dir = temp();
    const ssh = silentSsh(dir);
    const stop = new AbortController();
    const call = git(['-c', `core.sshCommand=${ssh.command}`, 'ls-remote', 'ssh://nowhere/x'], {
      cwd: dir,
      signal: stop.signal,
    }).catch((e: unknown) => e);
    const [pid] = (await fileOf(ssh.said)).trim().split(/\s+/).map(Number);
    pids.push(pid!);
    stop.abort();
    const err = (await call) as GitError;
    expect(err).toBeInstanceOf(GitError);
    expect(err.aborted).toBe(true);
    expect(err.message).toBe('git ls-remote was stopped');
    expect(pidAlive(pid!)).toBe(false);
  });

  it('gives what git said when a hook leaves a process holding its output, without waiting for it', async () => {
    const repo = makeRepo();
    dirs.push(repo);
    const hooks = temp();
    const left = join(hooks, 'left');
    // The process it leaves keeps git's stdout and stderr open for 10 minutes.
    writeFileSync(join(hooks, 'post-checkout'), `#!/bin/sh\nsleep 600 &\necho "$!" > ${left}\n`);
    chmodSync(join(hooks, 'post-checkout'), 0o755);
    const from = Date.now();
    const out = await git(['-c', `core.hooksPath=${hooks}`, 'checkout', '-b', 'side'], {
      cwd: repo,
      timeoutMs: 60_000,
    });
    expect(Date.now() - from).toBeLessThan(30_000);
    expect(out).toBe('');
    const [pid] = (await fileOf(left)).trim().split(/\s+/).map(Number);
    pids.push(pid!);
    // Not ours to kill: git ended by itself.
    expect(pidAlive(pid!)).toBe(true);
    expect(await git(['branch', '--show-current'], { cwd: repo })).toBe('side\n');
  });

  it('names git’s own error, and a command that wrote too much', async () => {
    const dir = temp();
    const refused = await git(['-C', dir, 'rev-parse', 'HEAD']).catch((e: unknown) => e);
    expect((refused as GitError).message).toMatch(/not a git repository/);
    // git's own refusal is for a person: it does not pass by itself.
    expect((refused as GitError).passing).toBe(false);
    const repo = makeRepo();
    dirs.push(repo);
    await expect(git(['-C', repo, 'log', '-p'], { maxBuffer: 10 })).rejects.toThrow(
      'git log wrote more than its 10 bytes and was killed',
    );
  });
});
