import type { Command } from 'commander';
import { ExitCode, WardenError } from '../core/errors.js';
import { quickCall } from './quick.js';
import { packageVersion } from './version.js';

/** Every command, and its subcommands, reports usage errors as one line and exit 2. */
function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c !== null; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

function configure(cmd: Command): void {
  cmd.exitOverride();
  cmd.configureOutput({
    outputError: (text, write) => {
      const message = oneLine(text.trim().replace(/^error: /, ''));
      write(`warden: ${message} (see \`${commandPath(cmd)} --help\`)\n`);
    },
  });
  for (const sub of cmd.commands) configure(sub);
}

/** Errors are one line: a newline in what the user typed must not split them. */
function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}

/** Runs the CLI and returns the exit code: 0 ok, 1 error, 2 usage, 3 not found, 4 conflict. */
export async function main(argv: readonly string[]): Promise<number> {
  const version = packageVersion();
  // Commander prints just this and exits 0 as soon as it reads the flag first in the line, so
  // it is answered here without loading commander or any command (issue #10).
  if (argv[0] === '--version' || argv[0] === '-V') {
    process.stdout.write(`${version}\n`);
    return ExitCode.ok;
  }
  // A worker's progress and heartbeat calls skip commander when they are plain (issue #10).
  const quick = quickCall(argv);
  if (quick) {
    try {
      await quick();
      return ExitCode.ok;
    } catch (err) {
      return reportError(await inWords(err));
    }
  }
  const [{ CommanderError }, { createProgram }] = await Promise.all([
    import('commander'),
    import('./program.js'),
  ]);
  const program = await createProgram(version, argv);
  configure(program);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    // A command that ended otherwise than in error set its own code (`dispatch --once` stopped
    // by Ctrl-C: 130).
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (
        err.code === 'commander.helpDisplayed' ||
        err.code === 'commander.version' ||
        err.exitCode === 0
      ) {
        return ExitCode.ok;
      }
      return ExitCode.usage;
    }
    return reportError(await inWords(err));
  }
}

/**
 * A storage failure that reached the top unnamed (a full disk or read-only folder while writing
 * one of the home's files, PostgreSQL gone mid-command) as the error in words of its kind
 * (src/store/storage-errors.ts); anything else as it is. Loaded only on failure.
 */
async function inWords(err: unknown): Promise<unknown> {
  if (err instanceof WardenError || !(err instanceof Error)) return err;
  const words = await import('../store/storage-errors.js');
  const named = words.fromErrnoError(err);
  if (named) return named;
  const db = process.env.WARDEN_DB?.trim();
  return (db ? words.fromPgClientError(err, db) : null) ?? err;
}

/** Says what went wrong in one line and gives the exit code of its kind. */
function reportError(err: unknown): number {
  if (err instanceof WardenError) {
    process.stderr.write(`warden: ${oneLine(err.message)}\n`);
    return err.exitCode;
  }
  // A bug: one line for people, the stack when WARDEN_DEBUG is set.
  const detail = err instanceof Error ? err.message : String(err);
  process.stderr.write(
    `warden: unexpected error: ${oneLine(detail)} (set WARDEN_DEBUG=1 for details)\n`,
  );
  if (process.env.WARDEN_DEBUG && err instanceof Error)
    process.stderr.write(`${err.stack ?? ''}\n`);
  return ExitCode.error;
}
