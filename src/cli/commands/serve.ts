import type { Command } from 'commander';
import { GC_DEFAULTS, HOST_LEASE_DEFAULTS } from '../../core/defaults.js';
import { hostSecret } from '../../config/home.js';
import { invalid } from '../../core/errors.js';
import { checkName } from '../../core/checks.js';
import { Host } from '../../serve/host.js';
import { HostInstruments } from '../../serve/instruments.js';
import { lostOutput, parseLogFormat, parseLogLevel, serveLogger } from '../../serve/log.js';
import { measuredStore } from '../../serve/measured-store.js';
import { checkBind } from '../../serve/listen-error.js';
import { openContext } from '../context.js';
import { parseAge, parseIntOption, parseInterval, parseMaxWorkers } from '../options.js';

interface ServeOptions {
  port?: string;
  bind?: string;
  hostId?: string;
  tick: string;
  maxWorkers?: string;
  progressFlush: string;
  leaseTtl: string;
  hostTtl?: string;
  metricsOpen?: boolean;
  gcEvery?: string;
  gcOlderThan?: string;
  logLevel?: string;
  logFormat: string;
}

/** `--gc-every` and `--gc-older-than`, checked; undefined when gc is off. */
function gcOptions(opts: ServeOptions): { everyMs: number; olderThanMs: number } | undefined {
  if (opts.gcEvery === undefined) {
    if (opts.gcOlderThan !== undefined) throw invalid('--gc-older-than: only with --gc-every');
    return undefined;
  }
  return {
    everyMs: parseAge(opts.gcEvery, '--gc-every'),
    olderThanMs:
      opts.gcOlderThan === undefined
        ? GC_DEFAULTS.older_than_ms
        : parseAge(opts.gcOlderThan, '--gc-older-than'),
  };
}

export function register(program: Command): void {
  program
    .command('serve')
    .description(
      'run the dispatcher, the supervisor and the HTTP API for this home (workers survive restarts)',
    )
    .option('--port <n>', 'API port (config serve.port, default 7420; 0 picks a free one)')
    .option('--bind <address>', 'API address (default 127.0.0.1)')
    .option('--host-id <name>', 'this host’s name (default: the machine’s hostname)')
    .option('--tick <duration>', 'fallback tick of the supervisor and dispatcher', '1s')
    .option(
      '--max-workers <n>',
      'most live workers on this host (config serve.max_workers, default 4)',
    )
    .option('--progress-flush <duration>', 'how often progress is written to the store', '15s')
    .option('--lease-ttl <duration>', 'how long a pull worker’s lease lasts without renewal', '30s')
    .option(
      '--host-ttl <duration>',
      'several hosts (WARDEN_DB): how long this host’s lease lasts without renewal (default 30s)',
    )
    .option('--metrics-open', 'answer /metrics without a token (every other route still needs one)')
    .option(
      '--log-level <level>',
      'least severe log lines written: trace, debug, info, warn, error, fatal or silent (default info, or WARDEN_LOG_LEVEL)',
    )
    .option(
      '--log-format <format>',
      'auto (pretty lines on a terminal, JSON lines otherwise), pretty or json',
      'auto',
    )
    .option('--gc-every <duration>', 'run `warden gc` every so often (off unless given), like 1h')
    .option(
      '--gc-older-than <duration>',
      'with --gc-every: prune tasks done or archived longer ago than this (default 30d)',
    )
    .action(async (opts: ServeOptions) => {
      const tickMs = parseInterval(opts.tick, '--tick');
      const flushMs = parseInterval(opts.progressFlush, '--progress-flush');
      const leaseTtlMs = parseInterval(opts.leaseTtl, '--lease-ttl', 300);
      const hostId = opts.hostId === undefined ? undefined : checkName(opts.hostId, '--host-id');
      const hostTtlMs =
        opts.hostTtl === undefined
          ? HOST_LEASE_DEFAULTS.ttl_ms
          : parseInterval(opts.hostTtl, '--host-ttl', HOST_LEASE_DEFAULTS.min_ttl_ms);
      // The full integrity_check once at start: serve writes from then on (issue #11).
      const gc = gcOptions(opts);
      const level =
        opts.logLevel !== undefined
          ? parseLogLevel(opts.logLevel)
          : parseLogLevel(process.env.WARDEN_LOG_LEVEL ?? 'info', 'WARDEN_LOG_LEVEL');
      const format = parseLogFormat(opts.logFormat);
      const ctx = await openContext(process.env, { check: 'full' });
      if (ctx.where.kind === 'sqlite' && opts.hostTtl !== undefined) {
        await ctx.store.close();
        throw invalid(
          '--host-ttl: host leases are for several hosts on PostgreSQL; set WARDEN_DB=postgres://... or leave it out',
        );
      }
      const port =
        opts.port === undefined ? ctx.config.serve.port : parseIntOption(opts.port, '--port');
      const maxWorkers =
        opts.maxWorkers === undefined
          ? ctx.config.serve.max_workers
          : parseMaxWorkers(opts.maxWorkers);
      if (port < 0 || port > 65535) throw invalid('--port: must be from 0 to 65535');
      const bind = opts.bind ?? ctx.config.serve.bind;
      await checkBind(bind).catch(async (err: unknown) => {
        await ctx.store.close();
        throw err;
      });
      const log = serveLogger({ level, format, ...(hostId !== undefined ? { host: hostId } : {}) });
      // What only this process sees, for /metrics: its store's times among them.
      const instruments = new HostInstruments();
      const host = new Host({
        store: measuredStore(ctx.store, instruments),
        instruments,
        apiLog: log,
        home: ctx.home,
        config: ctx.config,
        clock: ctx.clock,
        ...(hostId !== undefined ? { hostId } : {}),
        port,
        bind,
        tickMs,
        maxWorkers,
        progressFlushMs: flushMs,
        leaseTtlMs,
        metricsOpen: opts.metricsOpen ?? false,
        ...(ctx.where.kind === 'postgres'
          ? { hostLease: { ttlMs: hostTtlMs, secret: hostSecret(ctx.home) } }
          : {}),
        ...(gc ? { gc } : {}),
        log: (line) => log.info(line),
        warn: (line) => log.warn(line),
      });
      try {
        await host.start();
      } catch (err) {
        await ctx.store.close();
        throw err;
      }
      process.stdout.write(
        `warden serve: ${host.apiUrl} (host ${host.hostId}, up to ${maxWorkers} workers)\n`,
      );
      await new Promise<void>((resolve) => {
        const shutdown = (signal: string): void => {
          log.info(`${signal}: stopping; workers keep running`);
          void host
            .stop()
            .finally(() => ctx.store.close())
            .catch((err: unknown) => log.info(`stop: ${String(err)}`))
            .finally(resolve);
        };
        process.once('SIGTERM', () => shutdown('SIGTERM'));
        process.once('SIGINT', () => shutdown('SIGINT'));
        // Its terminal closed (`serve &` in a shell that exits), or a `kill -HUP` meant as a
        // reload: neither should end it without a word, its workers unwatched. It reloads
        // nothing: config.json is read at its start (docs/operations.md).
        process.on('SIGHUP', () =>
          log.warn(
            'SIGHUP: serve goes on, and reloads nothing (restart it to read config.json again); if its terminal closed, its log went with it: start it with nohup or a service manager',
          ),
        );
        for (const stream of [process.stdout, process.stderr]) stream.on('error', lostOutput);
      });
    });
}
