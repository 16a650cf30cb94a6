import { createConnection, createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';

/** A TCP proxy in front of a server, whose open connections can be cut off without a word. */
export interface BlackholeProxy {
  /** The proxy's URL for a PostgreSQL URL: the same with the proxy's host and port. */
  url: string;
  /**
   * From now on, every connection open through the proxy goes nowhere: what either side sends
   * is read and dropped, and neither side hears of a close by the other — what a connection
   * looks like after a failover to another address or a NAT that forgot it. Connections opened
   * afterwards pass as before.
   */
  blackhole(): void;
  /** Connections opened through the proxy so far. */
  opened(): number;
  close(): Promise<void>;
}

/**
 * A real TCP proxy (the network is outside the project) to `target`, a PostgreSQL URL, on a
 * free local port.
 */
export async function blackholeProxy(target: string): Promise<BlackholeProxy> {
  const to = new URL(target);
  const pairs: { client: Socket; server: Socket; cut: boolean }[] = [];
  let opened = 0;
  const proxy = createServer((client) => {
    opened++;
    const server = createConnection(Number(to.port || 5432), to.hostname);
    const pair = { client, server, cut: false };
    pairs.push(pair);
    const forward = (from: Socket, into: Socket): void => {
      from.on('data', (chunk) => {
        if (!pair.cut) into.write(chunk);
      });
      from.on('end', () => {
        if (!pair.cut) into.end();
      });
      from.on('error', () => {
        if (!pair.cut) into.destroy();
      });
      from.on('close', () => {
        if (!pair.cut) into.destroy();
      });
    };
    forward(client, server);
    forward(server, client);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const url = new URL(target);
  url.hostname = '127.0.0.1';
  url.port = String((proxy.address() as AddressInfo).port);
  return {
    url: url.toString(),
    blackhole: () => {
      for (const p of pairs) p.cut = true;
    },
    opened: () => opened,
    close: async () => {
      for (const p of pairs) {
        p.client.destroy();
        p.server.destroy();
      }
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    },
  };
}
