import type { Command } from 'commander';
import { runAgent } from '../../agents/launch.js';

export function register(program: Command): void {
  program
    .command('agent-run', { hidden: true })
    .description(
      "(inside a run) start an agent recipe's CLI with the run's prompt and MCP configuration; the command of profiles made with --agent",
    )
    .argument('<kind>', 'the agent recipe')
    .argument('[args...]', 'extra arguments for the agent, after --')
    .option('--model <model>', 'the model the agent uses')
    .action(async (kind: string, args: string[], opts: { model?: string }) => {
      const code = await runAgent({ kind, model: opts.model ?? null, extra: args });
      // The agent's mapped status is the worker's: the shim records it.
      process.exit(code);
    });
}
