import { Command } from 'commander';

/** What every command module exports: it adds its command or commands to the program. */
export interface CommandModule {
  register(program: Command): void;
}

/** A command module and the top-level command names it registers, in registration order. */
export interface CommandEntry {
  readonly names: readonly string[];
  readonly load: () => Promise<CommandModule>;
}

/**
 * Every command module, in the order `warden --help` lists them. A module is imported only
 * when its command runs, so a worker's `warden worker progress` does not load the MCP SDK,
 * Hono or the database drivers (issue #10: each CLI call cost a CPU-second). The names are
 * checked against what each module registers by test/cli/startup.test.ts.
 */
export const COMMANDS: readonly CommandEntry[] = [
  { names: ['init'], load: () => import('./commands/init.js') },
  { names: ['create'], load: () => import('./commands/create.js') },
  { names: ['list'], load: () => import('./commands/list.js') },
  { names: ['show'], load: () => import('./commands/show.js') },
  { names: ['edit'], load: () => import('./commands/edit.js') },
  { names: ['link'], load: () => import('./commands/link.js') },
  { names: ['apply'], load: () => import('./commands/apply.js') },
  { names: ['comment'], load: () => import('./commands/comment.js') },
  {
    names: ['block', 'unblock', 'retry', 'accept', 'reopen', 'archive', 'done'],
    load: () => import('./commands/moves.js'),
  },
  { names: ['answer', 'request-changes', 'approve'], load: () => import('./commands/answer.js') },
  { names: ['runs'], load: () => import('./commands/runs.js') },
  { names: ['log'], load: () => import('./commands/log.js') },
  { names: ['diff'], load: () => import('./commands/diff.js') },
  { names: ['events'], load: () => import('./commands/events.js') },
  { names: ['profile'], load: () => import('./commands/profile.js') },
  { names: ['board'], load: () => import('./commands/board.js') },
  { names: ['group'], load: () => import('./commands/group.js') },
  { names: ['schedule'], load: () => import('./commands/schedule.js') },
  { names: ['notify'], load: () => import('./commands/notify.js') },
  { names: ['stats'], load: () => import('./commands/stats.js') },
  { names: ['serve'], load: () => import('./commands/serve.js') },
  { names: ['dispatch'], load: () => import('./commands/dispatch.js') },
  { names: ['stop'], load: () => import('./commands/stop.js') },
  { names: ['doctor'], load: () => import('./commands/doctor.js') },
  { names: ['hosts'], load: () => import('./commands/hosts.js') },
  { names: ['inbox'], load: () => import('./commands/inbox.js') },
  { names: ['report'], load: () => import('./commands/report.js') },
  { names: ['check'], load: () => import('./commands/check.js') },
  { names: ['backup'], load: () => import('./commands/backup.js') },
  { names: ['restore'], load: () => import('./commands/restore.js') },
  { names: ['gc'], load: () => import('./commands/gc.js') },
  { names: ['token'], load: () => import('./commands/token.js') },
  { names: ['worker'], load: () => import('./commands/worker.js') },
  { names: ['mcp'], load: () => import('./commands/mcp.js') },
  { names: ['agent-run'], load: () => import('./commands/agent-run.js') },
  { names: ['open'], load: () => import('./commands/open.js') },
  { names: ['demo'], load: () => import('./commands/demo.js') },
  { names: ['completion'], load: () => import('./commands/completion.js') },
];

/**
 * The command modules `argv` needs, chosen so commander parses it exactly as it would with
 * every command registered:
 * - a command name first: commander dispatches to it, so only its module is needed;
 * - `--version` (or `-V`) first: commander prints the version while reading that first
 *   option, before it looks at commands, so none is needed;
 * - anything else (no arguments, `--help`, `help`, an option before the command, an unknown
 *   command that gets "did you mean"): every module, so help and suggestions list them all.
 */
export function commandsFor(argv: readonly string[]): readonly CommandEntry[] {
  const first = argv[0];
  if (first === undefined) return COMMANDS;
  if (first === '--version' || first === '-V') return [];
  const entry = COMMANDS.find((c) => c.names.includes(first));
  return entry ? [entry] : COMMANDS;
}

/**
 * The `warden` command line with the commands `argv` needs registered (see `commandsFor`);
 * without `argv`, every command.
 */
export async function createProgram(version: string, argv?: readonly string[]): Promise<Command> {
  const program = new Command('warden')
    .description('a durable kanban board and dispatcher for long-running AI-agent workers')
    .version(version)
    .showSuggestionAfterError(true);
  const entries = argv === undefined ? COMMANDS : commandsFor(argv);
  // Imported side by side, registered in table order so help lists commands as before.
  const modules = await Promise.all(entries.map((e) => e.load()));
  for (const mod of modules) mod.register(program);
  return program;
}
