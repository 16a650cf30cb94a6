import pg from 'pg';
import { POSTGRES_DEFAULTS } from '../../core/defaults.js';
import type { RemoteChange } from '../store.js';
import { atMost } from '../../os/at-most.js';
import { whenQuiet } from '../../os/quiet-socket.js';
import { socketOf } from './connection-watch.js';

const RELISTEN_MS = POSTGRES_DEFAULTS.relisten_ms;
/** How long the check's `SELECT 1` may take before the connection is taken for dead. */
const CHECK_ANSWER_MS = POSTGRES_DEFAULTS.listen_answer_ms;

/** The payload of a commit's notice when it changed a profile (the `profiles_changed` trigger). */
const PROFILES = 'profiles';

/** One watcher: its own entry, so the same function may watch twice and stop once. */
interface Watcher {
  onChange(change: RemoteChange): void;
}

/**
 * The `LISTEN` of one store on its schema's changes channel, shared by everyone in the process
 * who watches that store (the host's wake-ups, the notifier): one connection, so each commit
 * signals one PostgreSQL process per host rather than one per watcher. It is opened by the
 * first watcher and closed after the last; a dropped connection is noticed and listened again.
 * Each time it starts listening, and when a watcher joins one already listening, the watcher
 * hears a change with `profiles: true`: a change may have been missed before.
 *
 * A listening connection sends nothing, so one cut off without a word (a failover to another
 * address, a NAT that forgot it) would never error, and the host would hear no other host's
 * commit again, waking only at its ticks. So every `checkMs` it is asked `SELECT 1`; no answer
 * within 5 s, and it is closed and listened again. The check also keeps the connection from
 * looking idle to a NAT in the first place.
 */
export class ChangeListener {
  private readonly watchers = new Set<Watcher>();
  private client: pg.Client | null = null;
  private listening = false;
  private closed = false;
  private checker: NodeJS.Timeout | null = null;

  constructor(
    private readonly connectionString: string | undefined,
    private readonly channel: string,
    /** A commit of this process's own pool: not a change to wake for (the writer knows). */
    private readonly isOwn: (backendPid: number) => boolean,
    /** How often the listening connection is checked. */
    private readonly checkMs: number = POSTGRES_DEFAULTS.listen_check_ms,
  ) {}

  watch(onChange: (change: RemoteChange) => void): () => void {
    const watcher: Watcher = { onChange };
    this.watchers.add(watcher);
    if (this.watchers.size === 1 && this.client === null) void this.listen();
    else if (this.listening) {
      queueMicrotask(() => {
        if (this.watchers.has(watcher)) onChange({ profiles: true });
      });
    }
    return () => {
      if (!this.watchers.delete(watcher) || this.watchers.size > 0) return;
      this.drop();
    };
  }

  /** Stops listening for good (the store is closing). */
  close(): void {
    this.closed = true;
    this.watchers.clear();
    this.drop();
  }

  private tell(change: RemoteChange): void {
    for (const w of [...this.watchers]) w.onChange(change);
  }

  private drop(): void {
    const c = this.client;
    this.client = null;
    this.listening = false;
    if (this.checker) clearInterval(this.checker);
    this.checker = null;
    void c?.end().catch(() => undefined);
  }

  /** Asks the listening connection `c` for an answer; none in time, and it is listened again. */
  private async check(c: pg.Client, again: () => void): Promise<void> {
    const socket = socketOf(c);
    let stop = (): void => undefined;
    // Anything read meanwhile (the answer, a notice) shows the connection alive.
    const late = new Promise<'late'>((resolve) => {
      if (socket) stop = whenQuiet(socket, CHECK_ANSWER_MS, () => resolve('late'));
    });
    try {
      const answer = await Promise.race([c.query('SELECT 1'), late]);
      if (answer !== 'late' || this.client !== c) return;
      socket?.destroy();
      again();
    } catch {
      again();
    } finally {
      stop();
    }
  }

  private async listen(): Promise<void> {
    if (this.closed || this.watchers.size === 0 || this.client !== null) return;
    // Bounded like the pool's connections: a server (or a pooler) that takes the connection
    // but never finishes its start-up would otherwise hold the LISTEN back for good.
    const c = new pg.Client({
      connectionString: this.connectionString,
      connectionTimeoutMillis: POSTGRES_DEFAULTS.connect_timeout_ms,
    });
    this.client = c;
    const again = (): void => {
      if (this.client !== c) return;
      this.drop();
      setTimeout(() => void this.listen(), RELISTEN_MS).unref();
    };
    c.on('error', again);
    c.on('end', again);
    c.on('notification', (n) => {
      if (this.client === c && !this.isOwn(n.processId))
        this.tell({ profiles: n.payload === PROFILES });
    });
    try {
      await c.connect();
      const listening = c.query(`LISTEN ${this.channel}`).then(() => true);
      if ((await atMost(listening, CHECK_ANSWER_MS)) !== true)
        throw new Error(`no answer to LISTEN in ${CHECK_ANSWER_MS} ms`);
      if (this.client !== c) return;
      this.listening = true;
      let checking = false;
      this.checker = setInterval(() => {
        if (checking) return;
        checking = true;
        void this.check(c, again).finally(() => (checking = false));
      }, this.checkMs);
      this.checker.unref();
      this.tell({ profiles: true });
    } catch {
      socketOf(c)?.destroy();
      again();
    }
  }
}
