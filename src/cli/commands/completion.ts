import type { Command } from 'commander';
import { invalid } from '../../core/errors.js';
import { bashScript, completionTree, fishScript, zshScript } from '../completion.js';
import { packageVersion } from '../version.js';

const SHELLS = { bash: bashScript, zsh: zshScript, fish: fishScript } as const;

export function register(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script: bash, zsh or fish (see docs/cli.md)')
    .argument('<shell>', 'bash, zsh or fish')
    .action(async (shell: string) => {
      const script = Object.hasOwn(SHELLS, shell) ? SHELLS[shell as keyof typeof SHELLS] : null;
      if (script === null) {
        throw invalid(`'${shell}' is not a shell warden completes; use bash, zsh or fish`);
      }
      // Every command registered, as `warden --help` lists them (this one included).
      const { createProgram } = await import('../program.js');
      process.stdout.write(script(completionTree(await createProgram(packageVersion()))));
    });
}
