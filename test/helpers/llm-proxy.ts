import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { RequestListener, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dispatcher, person } from '../../src/core/actor.js';
import { ManualClock } from '../../src/core/clock.js';
import { LlmProxy } from '../../src/proxy/proxy.js';
import type { ProxyHooks } from '../../src/proxy/proxy.js';
import type { Claim } from '../../src/store/run-types.js';
import { openSqliteStore } from '../../src/store/sqlite/open.js';
import type { SqliteStore } from '../../src/store/sqlite/open.js';

/** What `proxied` takes besides the upstream and the ending hook. */
export interface ProxiedOptions {
  /** Runs before each of the proxy's records of a request is written. */
  beforeRecord?: (() => Promise<void>) | undefined;
  /** The proxy's `idleTimeoutMs`. */
  idleTimeoutMs?: number;
}

/**
 * The model proxy in the test process, in front of a real store with one running run, and
 * HTTP servers (upstreams, the proxy) on free ports of 127.0.0.1; everything is closed by
 * `close`, in the reverse of the order it was made.
 */
export class ProxyHarness {
  private readonly closing: (() => Promise<void> | void)[] = [];

  /** Something to close with the rest. */
  defer(close: () => Promise<void> | void): void {
    this.closing.push(close);
  }

  async close(): Promise<void> {
    for (const close of this.closing.splice(0).reverse()) await close();
  }

  /** Serves `handler` until `close`; resolves with its origin. */
  async serving(handler: RequestListener): Promise<string> {
    const server: Server = createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.defer(() => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    });
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /** A real store with one running run of a profile whose upstream is `upstream`, behind the proxy. */
  async proxied(
    upstream: string,
    end: ProxyHooks['end'],
    options: ProxiedOptions = {},
  ): Promise<{
    store: SqliteStore;
    claim: Claim;
    ask: () => Promise<Response>;
    proxy: LlmProxy;
    origin: string;
  }> {
    const beforeRecord = options.beforeRecord ?? (() => Promise.resolve());
    const dir = mkdtempSync(join(tmpdir(), 'warden-proxy-'));
    const clock = new ManualClock();
    const store = await openSqliteStore(join(dir, 'warden.db'), clock, { create: true });
    this.defer(() => rmSync(dir, { recursive: true, force: true }));
    this.defer(() => store.close());
    const ana = person('ana');
    await store.addBoard('default', ana);
    const llm = { upstream, kind: 'openai' as const, max_concurrency: null, max_rate_limits: 1 };
    await store.addProfile('p', { argv: ['true'], llm }, ana);
    await store.createTask({ title: 't', assignee: 'p' }, ana);
    const [claim] = await store.claimRuns(
      { host: 'h1', maxWorkers: 1, limit: 1, mode: 'spawned' },
      '/ws',
    );
    if (!claim) throw new Error('nothing claimed');
    // The real store, its records of requests made after `beforeRecord`.
    const recording = new Proxy(store, {
      get(target, key, receiver): unknown {
        if (key === 'recordLlmRequest') {
          return async (...args: Parameters<SqliteStore['recordLlmRequest']>) => {
            await beforeRecord();
            return target.recordLlmRequest(...args);
          };
        }
        const value: unknown = Reflect.get(target, key, receiver);
        return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
      },
    });
    const proxy = new LlmProxy({
      store: recording,
      clock,
      prices: () => ({}),
      hooks: { activity: () => undefined, end },
      stillRunning: () => true,
      actor: dispatcher('h1'),
      log: () => undefined,
      ...(options.idleTimeoutMs !== undefined ? { idleTimeoutMs: options.idleTimeoutMs } : {}),
    });
    this.defer(() => proxy.close());
    const origin = await this.serving((req, res) => void proxy.handle(req, res));
    const ask = (): Promise<Response> =>
      fetch(`${origin}/llm/${claim.token}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-5', messages: [{ role: 'user', content: 'hi' }] }),
      });
    return { store, claim, ask, proxy, origin };
  }
}
