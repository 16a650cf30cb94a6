import { hashToken, newToken } from '../../os/token.js';
import type { Command } from 'commander';
import { invalid } from '../../core/errors.js';
import { checkName } from '../../core/checks.js';
import { READING, withContext } from '../context.js';
import { collect } from '../options.js';
import { formatTime, say, sayJson, table } from '../output.js';

export function register(program: Command): void {
  const token = program.command('token').description('named tokens for pull workers and people');

  token
    .command('create')
    .description('make a token; it is printed once and stored only as a hash')
    .argument('<name>', 'who holds it, recorded with what it does')
    .option(
      '--profile <name>',
      'a profile a pull worker with this token may serve (repeatable)',
      collect,
    )
    .option('--admin', 'a person’s admin token instead of a worker token')
    .option('--json', 'print the token and its details as JSON')
    .action(
      async (nameText: string, opts: { profile?: string[]; admin?: boolean; json?: boolean }) => {
        const name = checkName(nameText, 'token name');
        // A profile named twice is served once.
        const profiles = [...new Set(opts.profile ?? [])];
        if (opts.admin && profiles.length > 0)
          throw invalid('an admin token serves no profiles; drop --profile');
        if (!opts.admin && profiles.length === 0) {
          throw invalid('a worker token needs at least one --profile it may serve');
        }
        const secret = newToken();
        const info = await withContext(async (ctx) => {
          for (const p of profiles) {
            if ((await ctx.store.getProfile(p)).mode !== 'pull') {
              throw invalid(
                `profile ${p} is started by serve, not pulled; a worker token serves pull profiles (\`profile add NAME --pull\`)`,
              );
            }
          }
          return ctx.store.addToken(
            { name, kind: opts.admin ? 'admin' : 'worker', hash: hashToken(secret), profiles },
            ctx.actor,
          );
        });
        if (opts.json) return sayJson({ ...info, token: secret });
        say(secret);
        process.stderr.write(
          `token ${name} (${info.kind}${profiles.length > 0 ? ` for ${profiles.join(', ')}` : ''}); it is shown only now\n`,
        );
      },
    );

  token
    .command('list')
    .description('list tokens (never their secrets)')
    .option('--json', 'print the tokens as JSON')
    .action(async (opts: { json?: boolean }) => {
      const tokens = await withContext((ctx) => ctx.store.listTokens(), READING);
      if (opts.json) return sayJson(tokens);
      say(
        table(
          ['NAME', 'KIND', 'PROFILES', 'CREATED'],
          tokens.map((t) => [
            t.name,
            t.kind,
            t.profiles.join(',') || '-',
            formatTime(t.created_at),
          ]),
        ),
      );
    });

  token
    .command('revoke')
    .description('revoke every token with this name')
    .argument('<name>', 'the token name')
    .action(async (nameText: string) => {
      const name = checkName(nameText, 'token name');
      await withContext((ctx) => ctx.store.revokeToken(name, ctx.actor));
      say(`token ${name} revoked`);
    });
}
