import type { Command } from 'commander';
import { invalid } from '../../core/errors.js';
import { parseJsonText, parseTaskId } from '../../core/checks.js';
import { buildPrompt } from '../../core/prompt.js';
import { BLOCK_KINDS } from '../../core/status.js';
import type { WorkerContext } from '../../core/worker-protocol.js';
import { keyedCreate } from '../../sdk/call-key.js';
import { collect, parseIntOption } from '../options.js';
import { say, sayJson } from '../output.js';
import { call, print, report, signal } from '../worker-call.js';

function metadata(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  return parseJsonText(text, '--metadata');
}

/** A terminal report with its body as the call's (`report`), and its line. */
async function terminal(
  json: boolean | undefined,
  path: string,
  body: Record<string, unknown>,
  op: string,
  said: string,
): Promise<void> {
  const { answer, kept } = await report(path, op, body);
  print(json, answer, kept === null ? said : `${said} (kept for serve)`);
}

export function register(program: Command): void {
  const worker = program
    .command('worker')
    .description('calls a worker makes about its own task (uses WARDEN_URL and WARDEN_RUN_TOKEN)');

  worker
    .command('show')
    .description(
      'the task, parents’ results, previous attempts and comments; fails if this run is stale',
    )
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const ctx = (await call('/context', undefined, 'GET')) as WorkerContext;
      if (opts.json) return sayJson(ctx);
      say(`task ${ctx.task.id}: ${ctx.task.title} (attempt ${ctx.run.attempt})`);
      if (ctx.task.body) say(ctx.task.body);
      for (const p of ctx.previous_attempts) {
        const how = p.signal ?? (p.exit_code === null ? '' : `exit ${p.exit_code}`);
        say(
          `attempt ${p.attempt}: ${p.outcome ?? 'running'}${how ? ` (${how})` : ''} — ${p.reason ?? ''}`,
        );
      }
    });

  worker
    .command('prompt')
    .description(
      'print the prompt for an agent: the task, parents’ results, why earlier attempts ended, comments since',
    )
    .action(async () => {
      say(buildPrompt((await call('/context', undefined, 'GET')) as WorkerContext));
    });

  for (const kind of ['heartbeat', 'progress'] as const) {
    worker
      .command(kind)
      .description(
        kind === 'progress'
          ? 'report progress (resets the stall clock)'
          : 'prove liveness (not progress)',
      )
      .option('--note <text>', 'a short note for the card')
      .option('--json', 'print JSON')
      .action((opts: { note?: string; json?: boolean }) => signal(kind, opts));
  }

  worker
    .command('comment')
    .description('comment on the task')
    .argument('<text>', 'the comment')
    .option('--json', 'print JSON')
    .action(async (text: string, opts: { json?: boolean }) => {
      print(opts.json, await call('/comment', { body: text }), 'comment added');
    });

  const results = [
    {
      name: 'complete',
      help: 'finish the task with a result; the process then has a while to exit',
      summary: 'what was done',
      said: 'completed',
    },
    {
      name: 'request-review',
      help: 'hand the result to a person for review',
      summary: 'what to review',
      said: 'review requested',
    },
  ] as const;
  for (const r of results) {
    worker
      .command(r.name)
      .description(r.help)
      .requiredOption('--summary <text>', r.summary)
      .option('--metadata <json>', 'a JSON value kept with the result')
      .option(
        '--created <id...>',
        'with complete: the tasks this task created (each is checked to be one it made)',
      )
      .option('--json', 'print JSON')
      .action(
        async (opts: {
          summary: string;
          metadata?: string;
          created?: string[];
          json?: boolean;
        }) => {
          if (opts.created !== undefined && r.name !== 'complete') {
            throw invalid('--created is for complete');
          }
          const md = metadata(opts.metadata);
          const body = {
            summary: opts.summary,
            ...(md !== undefined ? { metadata: md } : {}),
            ...(opts.created !== undefined
              ? { created: opts.created.map((t) => parseTaskId(t)) }
              : {}),
          };
          const op = r.name === 'complete' ? 'complete' : 'request_review';
          await terminal(opts.json, `/${r.name}`, body, op, r.said);
        },
      );
  }

  worker
    .command('fail')
    .description('give up this attempt; counted as a failure and retried with backoff')
    .requiredOption('--reason <text>', 'what went wrong')
    .option('--json', 'print JSON')
    .action(async (opts: { reason: string; json?: boolean }) => {
      await terminal(opts.json, '/fail', { reason: opts.reason }, 'fail', 'failed');
    });

  worker
    .command('approve')
    .description('a review run: the work does what the task asks, so the task is done')
    .option('--summary <text>', 'why it is good', '')
    .option('--json', 'print JSON')
    .action(async (opts: { summary: string; json?: boolean }) => {
      await terminal(opts.json, '/approve', { summary: opts.summary }, 'approve', 'approved');
    });

  worker
    .command('request-changes')
    .description(
      'a review run: send the work back with what to change, which the next attempt reads first',
    )
    .requiredOption('--reason <text>', 'what to change')
    .option('--json', 'print JSON')
    .action(async (opts: { reason: string; json?: boolean }) => {
      const body = { reason: opts.reason };
      await terminal(opts.json, '/request-changes', body, 'request_changes', 'changes requested');
    });

  worker
    .command('block')
    .description('block the task until a person acts')
    .requiredOption('--reason <text>', 'what is needed')
    .option('--kind <kind>', `one of ${BLOCK_KINDS.join(', ')}`, 'needs_input')
    .option('--json', 'print JSON')
    .action(async (opts: { reason: string; kind: string; json?: boolean }) => {
      if (!(BLOCK_KINDS as readonly string[]).includes(opts.kind)) {
        throw invalid(`--kind: unknown kind '${opts.kind}'; use one of ${BLOCK_KINDS.join(', ')}`);
      }
      await terminal(
        opts.json,
        '/block',
        { reason: opts.reason, kind: opts.kind },
        'block',
        'blocked',
      );
    });

  worker
    .command('ask')
    .description(
      'ask a person a question: the task waits blocked (needs_input) until `warden answer`, and the next attempt reads the answer first',
    )
    .requiredOption('--question <text>', 'what you need to know')
    .option('--json', 'print JSON')
    .action(async (opts: { question: string; json?: boolean }) => {
      await terminal(opts.json, '/ask', { question: opts.question }, 'ask', 'asked');
    });

  worker
    .command('create')
    .description('create a child task on the same board')
    .argument('<title>', 'the child task')
    .option('--body <text>', 'its description')
    .option('--assignee <profile>', 'the profile to work it')
    .option('--priority <n>', 'higher runs first')
    .option('--parent <id>', 'another task it waits for (repeatable)', collect)
    .option('--after-me', 'wait until this task is done')
    .option('--idempotency-key <key>', 'return the open task with this key instead of a duplicate')
    .option('--json', 'print JSON')
    .action(
      async (
        title: string,
        opts: {
          body?: string;
          assignee?: string;
          priority?: string;
          parent?: string[];
          afterMe?: boolean;
          idempotencyKey?: string;
          json?: boolean;
        },
      ) => {
        const body = {
          title,
          ...(opts.body !== undefined ? { body: opts.body } : {}),
          ...(opts.assignee !== undefined ? { assignee: opts.assignee } : {}),
          ...(opts.priority !== undefined
            ? { priority: parseIntOption(opts.priority, '--priority') }
            : {}),
          ...(opts.parent ? { parents: opts.parent.map(parseTaskId) } : {}),
          ...(opts.afterMe ? { after_me: true } : {}),
          ...(opts.idempotencyKey !== undefined ? { idempotency_key: opts.idempotencyKey } : {}),
        };
        const task = (await call('/create', keyedCreate(body))) as { id: number; status: string };
        // serve's clock, not this machine's, stamped the task: the answer cannot say whether
        // it was made now or found by its key, so the line says what is certain.
        print(
          opts.json,
          task,
          opts.idempotencyKey === undefined
            ? `created task ${task.id} [${task.status}]`
            : `task ${task.id} [${task.status}] holds idempotency key '${opts.idempotencyKey}' (made now, or found open)`,
        );
      },
    );

  worker
    .command('link')
    .description('make PARENT a parent of CHILD (the own task and tasks it created only)')
    .argument('<parent>', 'the task that must finish first')
    .argument('<child>', 'the task that waits')
    .option('--json', 'print JSON')
    .action(async (parent: string, child: string, opts: { json?: boolean }) => {
      const r = await call('/link', { parent: parseTaskId(parent), child: parseTaskId(child) });
      print(opts.json, r, `task ${child} now waits for ${parent}`);
    });
}
