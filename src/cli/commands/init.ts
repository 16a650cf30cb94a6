import type { Command } from 'commander';
import { systemClock } from '../../config/clock.js';
import { homePaths, resolveHome } from '../../config/home.js';
import { storeLocation } from '../../store/open.js';
import { defaultPersonName, initHome } from '../../serve/init.js';
import { say, sayJson } from '../output.js';

export function register(program: Command): void {
  program
    .command('init')
    .description(
      'set up the warden home (WARDEN_HOME, default ~/.warden): database, default board, admin token',
    )
    .option('--name <name>', 'name recorded as the actor of your actions', defaultPersonName())
    .option('--json', 'print the result as JSON')
    .action(async (opts: { name: string; json?: boolean }) => {
      const root = resolveHome();
      const where = storeLocation(homePaths(root), process.env);
      const { created, paths } = await initHome(root, opts.name, systemClock, where);
      if (opts.json) {
        sayJson({
          created,
          home: paths.root,
          database: where.kind === 'sqlite' ? where.path : where.shown,
          admin_token_file: paths.adminToken,
        });
        return;
      }
      say(
        created
          ? `warden home ready at ${paths.root}`
          : `warden home at ${paths.root} is already set up`,
      );
      say(`admin token: ${paths.adminToken} (mode 0600)`);
    });
}
