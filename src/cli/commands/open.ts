import { LOGIN_DEFAULTS } from '../../core/defaults.js';
import { hashToken, newSecret } from '../../os/token.js';
import type { Command } from 'commander';
import { parseTaskId } from '../../core/checks.js';
import { WardenError } from '../../core/errors.js';
import { readAdminToken } from '../../config/home.js';
import { withContext } from '../context.js';
import { say, sayJson } from '../output.js';
import { liveServe } from '../../serve/find.js';

/** How long a login link works. */

export function register(program: Command): void {
  program
    .command('open')
    .description(
      'print a one-time login link to the dashboard of this home’s serve (valid 5 minutes)',
    )
    .option('--task <id>', "open that task's drawer once logged in (a notification's link)")
    .option('--json', 'print the link as JSON')
    .action(async (opts: { task?: string; json?: boolean }) => {
      const task = opts.task === undefined ? null : parseTaskId(opts.task);
      const url = await withContext(async (ctx) => {
        const serve = await liveServe(ctx);
        if (!serve)
          throw new WardenError(
            'setup',
            'no warden serve is running for this home; start `warden serve` first',
          );
        const token = await ctx.store.findToken(hashToken(readAdminToken(ctx.home)));
        if (!token)
          throw new WardenError(
            'unauthorized',
            'the admin token of this home is not known to its database',
          );
        const code = newSecret(null, 24);
        // Only the code's hash is stored; the link is shown once and works once.
        await ctx.store.createLoginCode(token.id, hashToken(code), LOGIN_DEFAULTS.code_ttl_ms);
        // A wildcard bind is not an address to visit; this machine's loopback is.
        const base = serve.url.replace('//0.0.0.0:', '//127.0.0.1:').replace('//[::]:', '//[::1]:');
        return `${base}/login?code=${code}${task === null ? '' : `&task=${task}`}`;
      });
      if (opts.json) sayJson({ url, expires_in_ms: LOGIN_DEFAULTS.code_ttl_ms });
      else say(url);
    });
}
