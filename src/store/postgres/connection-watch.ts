import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { isUnreachable } from '../storage-errors.js';

/**
 * What the server says of one connection's server process (`pg_stat_activity`), or null when
 * it has none by that process id.
 */
export interface BackendActivity {
  state: string | null;
  wait_event: string | null;
  /** How long it has been in that state, by the server's clock. */
  state_ms: number;
  /** Its last statement (or the one it runs), as the server has it. */
  query: string | null;
}

/**
 * How long an answer may be under way: a server process that went quiet (or left its
 * transaction) this long ago, on a connection that has heard nothing since, sent an answer that
 * is not arriving. Far above any round trip over a network a database is used across.
 */
export const ANSWER_IN_FLIGHT_MS = 1_000;

/**
 * Why a connection that has been waiting, in a transaction, and heard nothing for a while is
 * dead, by what its server says of its server process; null when the server is working for it
 * (running its statement, waiting on a lock) or may yet answer.
 */
export function deadBecause(activity: BackendActivity | null): string | null {
  if (activity === null) return 'its server process is gone';
  const { state, wait_event, state_ms, query } = activity;
  // Sending the answer, and nothing of it arrives.
  if (state === 'active' && wait_event === 'ClientWrite') return 'its server cannot send to it';
  if (state_ms < ANSWER_IN_FLIGHT_MS) return null;
  // Waiting on this connection while this connection waits on it: what one sent, the other
  // never got. Outside any transaction after a COMMIT, the COMMIT ran and its answer was
  // lost: said, since the work is then done though the caller hears a failure.
  if (state === 'idle') {
    return /\bCOMMIT\s*;?\s*$/i.test(query ?? '')
      ? 'its server process is outside any transaction after a COMMIT (which took effect; its answer was lost)'
      : 'its server process is outside any transaction';
  }
  if (state?.startsWith('idle in transaction')) return 'its server process is waiting for it';
  // In the middle of a statement, waiting for the rest of it (warden uses no COPY, the one
  // statement that reads from the client as it runs).
  if (state === 'active' && wait_event === 'ClientRead')
    return 'its server process is waiting for the rest of a statement';
  return null;
}

/** A connection of the pool, and when it last heard from its server. */
interface Watched {
  client: pg.PoolClient;
  socket: Socket;
  heardAt: number;
  /** When a transaction (or a statement outside one) began on it; null while idle. */
  busySince: number | null;
  /** When its server last said it is working for it: quiet is counted again from then. */
  clearedAt: number;
}

/** The options of a watch. */
export interface ConnectionWatchOptions {
  /** How the probe connects: a connection of its own, never one of the pool's. */
  connectionString: string | undefined;
  /** How long a busy connection may hear nothing before its server is asked about it. */
  quietMs: number;
  /** How long the probe may take to connect and answer. */
  probeTimeoutMs: number;
}

/**
 * Finds the pool's connections that died without a word (a failover to another address, a NAT
 * or firewall that forgot the connection, a cable pulled). The kernel gives such a connection
 * up only after about 15 minutes of unanswered resends, and until then the transaction on it
 * waits: a host-lease renewal waiting so held every later renewal back, and the host's workers
 * were frozen and killed though a new connection would have worked at once. A connection busy
 * in a transaction (or a statement) that has heard nothing for `quietMs` is asked about on a
 * connection of the watch's own, and closed if its server is not working for it
 * (`deadBecause`): its transaction fails as an unreachable store's does (and is tried again by
 * its caller), and the pool's idle connections go with it, since they were likely cut off by
 * the same cause. A slow statement or a lock wait is the server working, and is waited for as
 * before. If two probes in a row cannot reach the server at all, the quiet connections are
 * closed too: the store is away, and that is said in seconds rather than in 15 minutes.
 */
export class ConnectionWatch {
  private readonly watched = new Map<pg.PoolClient, Watched>();
  private readonly timer: NodeJS.Timeout;
  private probing = false;
  private closed = false;
  /** The probe under way, closed with the watch. */
  private probeClient: pg.Client | null = null;
  /** Probes in a row that could not reach the server. */
  private unreachable = 0;

  constructor(private readonly opts: ConnectionWatchOptions) {
    const every = Math.max(50, Math.min(1_000, Math.floor(opts.quietMs / 2)));
    this.timer = setInterval(() => {
      this.look().catch(() => undefined);
    }, every);
    this.timer.unref();
  }

  /** A new connection of the pool: every byte it receives counts as hearing from the server. */
  adopt(client: pg.PoolClient): void {
    const socket = socketOf(client);
    if (!socket) return;
    const w: Watched = {
      client,
      socket,
      heardAt: performance.now(),
      busySince: null,
      clearedAt: 0,
    };
    socket.on('data', () => {
      w.heardAt = performance.now();
    });
    this.watched.set(client, w);
  }

  forget(client: pg.PoolClient): void {
    this.watched.delete(client);
  }

  /** `client` is checked out for a transaction or a statement; the returned call ends that. */
  busy(client: pg.PoolClient): () => void {
    const w = this.watched.get(client);
    if (!w) return () => undefined;
    w.busySince = performance.now();
    return () => {
      w.busySince = null;
    };
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    this.watched.clear();
    if (this.probeClient) socketOf(this.probeClient)?.destroy();
  }

  /** The busy connections that have heard nothing for `quietMs`. */
  private quiet(now: number): Watched[] {
    return [...this.watched.values()].filter(
      (w) =>
        w.busySince !== null &&
        !w.socket.destroyed &&
        now - Math.max(w.heardAt, w.busySince, w.clearedAt) >= this.opts.quietMs,
    );
  }

  private async look(): Promise<void> {
    if (this.probing) return;
    const sentAt = performance.now();
    const suspects = this.quiet(sentAt);
    if (suspects.length === 0) return;
    this.probing = true;
    try {
      const found = await this.probe(suspects.map((w) => pidOf(w.client)));
      // Unreachable once may be a slow server's slow log-in: twice in a row (10 s and more of
      // trying) is a server that cannot be reached.
      this.unreachable = found === 'unreachable' ? this.unreachable + 1 : 0;
      // Judged after every callback of this turn of the loop has run: an answer that waited
      // unread in a socket while the loop was held up is heard first, and clears its connection.
      await new Promise((r) => setImmediate(r));
      if (this.closed) return;
      const now = performance.now();
      let dead = false;
      for (const w of suspects) {
        if (w.busySince === null || w.heardAt >= sentAt || w.socket.destroyed) continue;
        const why =
          found === 'unreachable'
            ? this.unreachable >= 2
              ? 'the server cannot be reached on a new connection either'
              : null
            : found === null
              ? null
              : deadBecause(found.get(pidOf(w.client)) ?? null);
        if (why === null) {
          w.clearedAt = now;
          continue;
        }
        const quiet = Math.round((now - Math.max(w.heardAt, w.busySince)) / 100) / 10;
        this.drop(
          w,
          `PostgreSQL connection to server process ${pidOf(w.client)} heard nothing for ${quiet}s and ${why}; it was closed, and the next try opens a new one`,
        );
        dead = true;
      }
      if (dead) this.dropIdle();
    } finally {
      this.probing = false;
    }
  }

  /** Closes a connection; its transaction fails with `message`, and the pool drops it. */
  private drop(w: Watched, message: string): void {
    this.watched.delete(w.client);
    w.socket.destroy(Object.assign(new Error(message), { code: 'ETIMEDOUT' }));
  }

  /** The pool's idle connections, probably cut off with the dead one: opened again when needed. */
  private dropIdle(): void {
    for (const w of [...this.watched.values()]) {
      if (w.busySince !== null) continue;
      this.watched.delete(w.client);
      w.socket.destroy();
    }
  }

  /**
   * What the server says of these server processes, on a new connection of the probe's own;
   * 'unreachable' when no connection could be made, null when it could not say for another
   * reason (too many connections, a slow answer): nothing is judged then.
   */
  private async probe(
    pids: number[],
  ): Promise<Map<number, BackendActivity> | 'unreachable' | null> {
    const c = new pg.Client({
      connectionString: this.opts.connectionString,
      connectionTimeoutMillis: this.opts.probeTimeoutMs,
      query_timeout: this.opts.probeTimeoutMs,
    });
    c.on('error', () => undefined);
    this.probeClient = c;
    try {
      await c.connect();
      const { rows } = await c.query<{ me: number; found: (BackendActivity & { pid: number })[] }>(
        `SELECT pg_backend_pid() AS me, COALESCE((SELECT json_agg(json_build_object(
           'pid', pid, 'state', state, 'wait_event', wait_event, 'query', query,
           'state_ms', extract(epoch FROM clock_timestamp() - state_change) * 1000))
         FROM pg_stat_activity WHERE pid = ANY($1::int[])), '[]') AS found`,
        [pids],
      );
      void c.end().catch(() => undefined);
      // Behind a pooler (pgbouncer) the process ids a connection is told are the pooler's, not
      // the server's: nothing can be judged by them.
      if (rows[0]?.me !== pidOf(c)) return null;
      return new Map(rows[0].found.map((r) => [r.pid, r]));
    } catch (err) {
      // Closed at once: ending it politely would wait on a server that may not answer.
      socketOf(c)?.destroy();
      // A slow answer once connected ('Query read timeout') is not an unreachable server.
      return isUnreachable(err) ? 'unreachable' : null;
    } finally {
      this.probeClient = null;
    }
  }
}

/**
 * The socket under a `pg` client. `connection.stream` is not in `pg`'s typings but is what its
 * own `query_timeout` closes a pipelined connection through; the watch's tests fail if it moves.
 */
export function socketOf(client: pg.Client): Socket | undefined {
  return (client as unknown as { connection?: { stream?: Socket } }).connection?.stream;
}

/** The server process a client is connected to. */
export function pidOf(client: pg.Client): number {
  return (client as unknown as { processID: number }).processID;
}
