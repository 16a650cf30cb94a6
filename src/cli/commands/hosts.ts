import type { Command } from 'commander';
import { formatDuration } from '../../core/duration.js';
import { isSameProcessAlive } from '../../os/procfs.js';
import type { HostRecord } from '../../store/run-types.js';
import { READING, withContext } from '../context.js';
import { say, sayJson, table } from '../output.js';

/** A host's state as `warden hosts` says it. */
type HostState = 'live' | 'lapsed' | 'gone' | 'stopped';

/**
 * What a host is now. Several hosts: `lapsed` once its lease ran out (another host ends its
 * runs, and marks it stopped as it does: a reaped host is still one whose lease lapsed, not one
 * that stopped cleanly), else `live`. One host: `stopped` (its serve said so), `gone` (its
 * serve is not running on this machine; the next one adopts or ends its runs), or `live`.
 */
function stateOf(h: HostRecord, now: number): HostState {
  if (h.lease_expires_at !== null) {
    if (h.stopped_at !== null && h.stopped_at < h.lease_expires_at) return 'stopped';
    return h.lease_expires_at < now ? 'lapsed' : 'live';
  }
  if (h.stopped_at !== null) return 'stopped';
  return h.process !== null && isSameProcessAlive(h.process) ? 'live' : 'gone';
}

function ago(now: number, at: number): string {
  return `${formatDuration(Math.max(0, now - at))} ago`;
}

/** The STATE column: what it is and since when. */
function stateText(h: HostRecord, state: HostState, now: number): string {
  switch (state) {
    case 'stopped':
      return `stopped ${ago(now, h.stopped_at ?? now)}`;
    case 'lapsed':
      return `lease lapsed ${ago(now, h.lease_expires_at ?? now)}${h.stopped_at !== null ? ', its runs ended' : ''}`;
    case 'gone':
      return 'gone';
    case 'live':
      // One host renews nothing: its serve's process is what is live.
      return h.lease_expires_at === null ? 'live' : `live (renewed ${ago(now, h.renewed_at)})`;
  }
}

export function register(program: Command): void {
  program
    .command('hosts')
    .description(
      'the hosts whose serve shares this store: live, lapsed or stopped, where, and their open runs',
    )
    .option('--json', 'print the hosts as JSON')
    .action(async (opts: { json?: boolean }) => {
      const hosts = await withContext((ctx) => ctx.store.listHosts(), READING);
      const now = Date.now();
      const rows = hosts.map((h) => ({ ...h, state: stateOf(h, now) }));
      if (opts.json) {
        sayJson(rows);
        return;
      }
      if (rows.length === 0) {
        say('no host has run serve on this store yet; start one with `warden serve`');
        return;
      }
      say(
        table(
          ['HOST', 'STATE', 'URL', 'PID', 'STARTED', 'OPEN RUNS', 'MAX WORKERS'],
          rows.map((h) => [
            h.host_id,
            stateText(h, h.state, now),
            h.url ?? '-',
            h.process === null ? '-' : String(h.process.pid),
            ago(now, h.started_at),
            String(h.open_runs),
            h.max_workers === null ? '-' : String(h.max_workers),
          ]),
        ),
      );
    });
}
