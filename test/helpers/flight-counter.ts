/*
 * A TCP relay between a PostgreSQL client and its server that counts the client's flights, for
 * the tests of round trips (issue #16).
 */
import { createConnection, createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';

/**
 * A TCP relay to the server that counts flights: runs of bytes the client sends with no answer
 * from the server between them. Each flight after the first of a transaction is a round trip
 * the client waited for.
 */
export class FlightCounter {
  flights = 0;
  private constructor(private readonly server: Server) {}

  static async start(target: URL): Promise<FlightCounter> {
    const server = createServer();
    const counter = new FlightCounter(server);
    server.on('connection', (client) => {
      const upstream = createConnection(Number(target.port || 5432), target.hostname);
      let answered = true;
      client.on('data', (chunk) => {
        if (answered) counter.flights += 1;
        answered = false;
        upstream.write(chunk);
      });
      upstream.on('data', (chunk) => {
        answered = true;
        client.write(chunk);
      });
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return counter;
  }

  /** The server's URL, reached through this relay. */
  url(of: URL): string {
    const u = new globalThis.URL(of.toString());
    u.hostname = '127.0.0.1';
    u.port = String((this.server.address() as AddressInfo).port);
    return u.toString();
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
