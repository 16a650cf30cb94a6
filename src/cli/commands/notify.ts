import type { Command } from 'commander';
import { WardenError } from '../../core/errors.js';
import { DEAD_LETTER_PAGE, DEAD_LETTER_PAGE_MAX, parseKinds } from '../../core/notify.js';
import type { Subscription } from '../../core/notify.js';
import { liveServe } from '../../serve/find.js';
import { dashboardBase, notifyPolicyFromEnv } from '../../serve/notify.js';
import { resendDeadLetter, sendTestMessage, testSummary } from '../../serve/notify-test.js';
import type { TestSend } from '../../serve/notify-test.js';
import { READING, withContext } from '../context.js';
import { parseIntOption } from '../options.js';
import { formatTime, oneLine, say, sayJson, table } from '../output.js';

interface AddOptions {
  events?: string;
  format?: string;
  board?: string;
  task?: string;
  secret?: string;
  json?: boolean;
}

interface DeadOptions {
  subscription?: string;
  after?: string;
  limit: string;
  json?: boolean;
}

function deadLimit(text: string): number {
  const n = parseIntOption(text, '--limit');
  if (n < 1 || n > DEAD_LETTER_PAGE_MAX) {
    throw new WardenError(
      'invalid',
      `--limit: must be from 1 to ${DEAD_LETTER_PAGE_MAX}, got ${n}`,
    );
  }
  return n;
}

function idOf(text: string): number {
  const id = parseIntOption(text, 'subscription id');
  if (id < 1) throw new WardenError('invalid', `subscription id: expected a positive number`);
  return id;
}

function scope(s: Subscription): string {
  if (s.task_id !== null) return `task ${s.task_id}`;
  return s.board === null ? 'every board' : `board ${s.board}`;
}

function state(s: Subscription): string {
  if (s.attempts === 0) return 'ok';
  const next = s.next_at === null ? '' : `, next ${formatTime(s.next_at)}`;
  return `retrying (${s.attempts} failed${next})`;
}

/** The dashboard base for links: the home's serve, when one runs. */
async function linkBase(ctx: Parameters<typeof liveServe>[0]): Promise<string | null> {
  const serve = await liveServe(ctx);
  return serve ? dashboardBase(serve.url) : null;
}

const timeout = (): number => notifyPolicyFromEnv().timeoutMs;

/** Says what a target answered; a target that did not take it fails the command (exit 1). */
function answered(id: number, sent: TestSend, json: boolean | undefined): void {
  const { ok, status, error, answer } = sent.result;
  if (json) sayJson({ id, ok, status, error, answer, ms: sent.ms });
  else if (ok) say(testSummary(sent));
  if (!ok) throw new WardenError('setup', testSummary(sent));
}

export function register(program: Command): void {
  const notify = program
    .command('notify')
    .description('webhook notifications: subscriptions, test messages and dead letters');

  notify
    .command('add')
    .description('subscribe a webhook URL to notifications; it hears what happens from now on')
    .argument('<url>', 'the http(s) address to POST each notification to')
    .option(
      '--events <kinds>',
      'comma-separated: completed, review_requested, needs_input, question, stall_loop, gave_up, budget, stalled, host_lost (default: all)',
    )
    .option('--format <format>', 'json, slack, discord or ntfy', 'json')
    .option('--board <name>', 'only notifications of this board')
    .option('--task <id>', 'only notifications of this task')
    .option(
      '--secret <text>',
      'sign each message: X-Warden-Signature: sha256=HMAC of timestamp.key.body',
    )
    .option('--json', 'print the subscription as JSON')
    .action(async (url: string, opts: AddOptions) => {
      const input = {
        url,
        ...(opts.events === undefined ? {} : { kinds: parseKinds(opts.events) }),
        ...(opts.format === undefined ? {} : { format: opts.format }),
        board: opts.board ?? null,
        task_id: opts.task === undefined ? null : parseIntOption(opts.task, '--task'),
        secret: opts.secret ?? null,
      };
      if (input.kinds?.length === 0) {
        throw new WardenError(
          'invalid',
          '--events: name at least one kind, like completed,gave_up',
        );
      }
      const s = await withContext((ctx) => ctx.store.addSubscription(input, ctx.actor));
      if (opts.json) return sayJson(s);
      say(
        `subscription ${s.id} added: ${s.format} to ${s.url} on ${s.kinds.join(', ')} (${scope(s)})${s.signed ? ', signed' : ''}`,
      );
    });

  notify
    .command('list')
    .description('list subscriptions with their delivery counts and state')
    .option('--json', 'print the subscriptions as JSON')
    .action(async (opts: { json?: boolean }) => {
      const list = await withContext((ctx) => ctx.store.listSubscriptions(), READING);
      if (opts.json) return sayJson(list);
      if (list.length === 0) {
        return say('no subscriptions; add one with `warden notify add https://host/hook`');
      }
      say(
        table(
          [
            'ID',
            'URL',
            'FORMAT',
            'EVENTS',
            'SCOPE',
            'SENT',
            'FAILED',
            'DEAD',
            'STATE',
            'LAST ERROR',
          ],
          list.map((s) => [
            String(s.id),
            oneLine(s.url, 50),
            s.format,
            oneLine(s.kinds.join(','), 40),
            scope(s),
            String(s.delivered),
            String(s.failed),
            String(s.dead),
            state(s),
            oneLine(s.last_error ?? '', 50),
          ]),
        ),
      );
    });

  notify
    .command('remove')
    .description('remove a subscription and its dead letters')
    .argument('<id>', 'the subscription id')
    .option('--json', 'print what was removed as JSON')
    .action(async (idText: string, opts: { json?: boolean }) => {
      const id = idOf(idText);
      await withContext((ctx) => ctx.store.removeSubscription(id));
      if (opts.json) sayJson({ removed: id });
      else say(`subscription ${id} removed`);
    });

  notify
    .command('test')
    .description('send a test message to a subscription now and say what its target answered')
    .argument('<id>', 'the subscription id')
    .option('--json', 'print the answer as JSON')
    .action(async (idText: string, opts: { json?: boolean }) => {
      const id = idOf(idText);
      const sent = await withContext(
        async (ctx) => sendTestMessage(ctx.store, id, await linkBase(ctx), timeout()),
        READING,
      );
      answered(id, sent, opts.json);
    });

  notify
    .command('resend')
    .description(
      'send a dead letter again now; it leaves the dead letters once its target takes it',
    )
    .argument('<id>', 'the dead letter id (`warden notify dead`)')
    .option('--json', 'print the answer as JSON')
    .action(async (idText: string, opts: { json?: boolean }) => {
      const id = parseIntOption(idText, 'dead letter id');
      const sent = await withContext(async (ctx) =>
        resendDeadLetter(ctx.store, id, await linkBase(ctx), timeout()),
      );
      answered(id, sent, opts.json);
    });

  notify
    .command('dead')
    .description('list notifications that used up their attempts (dead letters)')
    .option('--subscription <id>', 'only the dead letters of this subscription')
    .option('--after <id>', 'only dead letters after this one (the next page)')
    .option(
      '--limit <n>',
      `at most this many (up to ${DEAD_LETTER_PAGE_MAX})`,
      String(DEAD_LETTER_PAGE),
    )
    .option('--json', 'print the dead letters as JSON')
    .action(async (opts: DeadOptions) => {
      const page = {
        ...(opts.subscription === undefined ? {} : { subscription: idOf(opts.subscription) }),
        ...(opts.after === undefined ? {} : { after: parseIntOption(opts.after, '--after') }),
        limit: deadLimit(opts.limit),
      };
      const list = await withContext((ctx) => ctx.store.listDeadLetters(page), READING);
      if (opts.json) return sayJson(list);
      if (list.length === 0) return say('no dead letters');
      say(
        table(
          ['ID', 'SUB', 'URL', 'EVENT', 'KIND', 'ATTEMPTS', 'AT', 'ERROR'],
          list.map((d) => [
            String(d.id),
            String(d.subscription_id),
            oneLine(d.url, 40),
            String(d.event_id),
            d.kind,
            String(d.attempts),
            formatTime(d.at),
            oneLine(d.error, 60),
          ]),
        ),
      );
      const last = list.at(-1);
      if (list.length === page.limit && last) {
        say(`more may follow: warden notify dead --after ${last.id}`);
      }
    });
}
