/*
 * Issue #15: `warden completion bash|zsh|fish` prints a completion script generated from the
 * commander program, so it names every command `warden --help` lists, their subcommands and
 * their options. Each script is run by its real shell: bash through its completion function,
 * fish through `complete -C`, zsh with the completion system's `compadd` and `_files` recorded
 * (the shell's own builtins, outside warden); zsh and fish are skipped, with the reason, where
 * they are not installed. A shell warden does not complete is one line, exit 2.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, runWarden } from '../helpers/cli.js';

let dir: string;
const script: Record<string, string> = {};
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'warden-completion-'));
  for (const shell of ['bash', 'zsh', 'fish']) {
    const r = await runWarden(['completion', shell], process.env);
    expect(r.code, r.stderr).toBe(0);
    script[shell] = join(dir, `warden.${shell}`);
    writeFileSync(script[shell], r.stdout);
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const has = (shell: string): boolean => spawnSync(shell, ['-c', 'exit 0']).status === 0;

/** What the shell offers after `line` (the last word is the one being completed). */
function bash(line: string[]): string[] {
  const words = line.map((w) => `'${w}'`).join(' ');
  const out = execFileSync(
    'bash',
    [
      '-c',
      `source '${script.bash}'; COMP_WORDS=(${words}); COMP_CWORD=${line.length - 1}; _warden; printf '%s\\n' "\${COMPREPLY[@]}"`,
    ],
    { encoding: 'utf8' },
  );
  return out.split('\n').filter((w) => w !== '');
}

function zsh(line: string[]): string[] {
  const words = line.map((w) => `'${w}'`).join(' ');
  const out = execFileSync(
    'zsh',
    [
      '-c',
      `compdef() {}; _files() {}; compadd() { shift; print -rl -- "$@"; }; source '${script.zsh}'; words=(${words}); CURRENT=${line.length}; _warden`,
    ],
    { encoding: 'utf8' },
  );
  // compadd is given every word of the place; the shell keeps those that fit what was typed.
  const typed = line.at(-1) ?? '';
  return out.split('\n').filter((w) => w !== '' && w.startsWith(typed));
}

function fish(line: string[]): string[] {
  const out = execFileSync(
    'fish',
    ['-c', `source '${script.fish}'; complete -C '${line.join(' ')}'`],
    { encoding: 'utf8' },
  );
  return out
    .split('\n')
    .filter((w) => w !== '')
    .map((w) => w.split('\t')[0] ?? '');
}

/** The commands `warden --help` lists. */
async function helpCommands(): Promise<string[]> {
  const help = (await runWarden(['--help'], process.env)).stdout;
  const section = help.slice(help.indexOf('Commands:'));
  return [...section.matchAll(/^ {2}([a-z-]+)/gm)]
    .map((m) => m[1] ?? '')
    .filter((c) => c !== 'help');
}

const SHELLS = { bash, zsh, fish };

describe('warden completion', () => {
  for (const [shell, complete] of Object.entries(SHELLS)) {
    describe.skipIf(!has(shell))(`${shell}${has(shell) ? '' : ' (not installed here)'}`, () => {
      it('offers every command warden --help lists', async () => {
        const commands = await helpCommands();
        expect(commands).toContain('log');
        expect(commands).toContain('completion');
        const offered = complete(['warden', '']);
        for (const c of commands) expect(offered, c).toContain(c);
      });

      it('offers a command’s subcommands and options, and a subcommand’s own', () => {
        expect(complete(['warden', 'pro'])).toEqual(['profile']);
        expect(complete(['warden', 'profile', 'a'])).toEqual(['add']);
        expect(complete(['warden', 'log', '1', '--f'])).toEqual(['--follow']);
        expect(complete(['warden', 'schedule', 'add', '--cr'])).toEqual(['--cron']);
        // profile add's options are its own: not schedule add's.
        expect(complete(['warden', 'profile', 'add', '--cr'])).toEqual([]);
        expect(complete(['warden', 'profile', 'add', '--stall-t'])).toEqual(['--stall-timeout']);
      });
    });
  }

  it('refuses a shell it does not complete in one line, exit 2', async () => {
    expectError(
      await runWarden(['completion', 'tcsh'], process.env),
      2,
      /'tcsh' is not a shell warden completes; use bash, zsh or fish/,
    );
    expectError(await runWarden(['completion'], process.env), 2, /missing required argument/);
  });
});
