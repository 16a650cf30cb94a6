import type { Command } from 'commander';
import { formatDuration } from '../../core/duration.js';
import { formatSize } from '../../core/size.js';
import { gcSummary, pruneFolders, pruneHistory } from '../../serve/gc.js';
import { READING_AS_PERSON, withContext } from '../context.js';
import { parseAge } from '../options.js';
import { formatTime, say, sayJson } from '../output.js';

export function register(program: Command): void {
  program
    .command('gc')
    .description(
      'remove the events, run folders (logs) and workspaces of tasks done or archived long ago',
    )
    .requiredOption(
      '--older-than <duration>',
      'tasks done or archived longer ago than this, like 30d',
    )
    .option('--dry-run', 'say what would be removed, remove nothing')
    .option('--json', 'print what was removed as JSON')
    .action(async (opts: { olderThan: string; dryRun?: boolean; json?: boolean }) => {
      const olderThanMs = parseAge(opts.olderThan, '--older-than');
      const dryRun = opts.dryRun ?? false;
      const before = Date.now() - olderThanMs;
      // Folders first, on a read-only connection: on a full disk that makes the room the
      // events' deletion needs (it opens the database read-write).
      const folders = await withContext(
        (ctx) => pruneFolders(ctx.store, ctx.home, before, dryRun),
        READING_AS_PERSON,
      );
      const report = await withContext(
        (ctx) => pruneHistory(ctx.store, before, dryRun, ctx.actor, folders),
        dryRun ? READING_AS_PERSON : {},
      );
      if (opts.json) return sayJson({ ...report, older_than: formatDuration(olderThanMs) });
      const verb = dryRun ? 'would remove' : 'removed';
      for (const r of report.runs) say(`${verb} run folder ${r.path} (${formatSize(r.bytes)})`);
      for (const w of report.workspaces)
        say(`${verb} workspace ${w.path} (${formatSize(w.bytes)})`);
      say(`gc: ${gcSummary(report, formatTime)}`);
    });
}
