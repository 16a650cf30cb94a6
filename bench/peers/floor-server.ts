/**
 * The HTTP side of the floor round (./floor-round.ts), as its own process the way `warden serve`
 * is: `POST /round` with a bearer token and `{ "done": [tokens], "max": n }` runs the round's
 * one statement and answers `{ "claims": [...] }`. The least an HTTP hop between a worker and
 * the database can be: node:http, a token compared in memory, the body parsed with
 * `JSON.parse`, a pool of CONNECTIONS (one per loop its client runs). Not warden: a measurement's stand-in.
 *
 *   node bench/peers/floor-server.ts POSTGRES_URL SCHEMA SECRET CONNECTIONS   (prints its URL)
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { FLOOR_ROUND } from './floor-round.ts';

const [url, schema, secret, connections] = process.argv.slice(2);
const max = Number(connections);
if (!url || !schema || !secret || !Number.isInteger(max) || max < 1) {
  process.stderr.write('usage: floor-server.ts POSTGRES_URL SCHEMA SECRET CONNECTIONS\n');
  process.exit(2);
}
const pool = new pg.Pool({ connectionString: url, max, options: `-c search_path=${schema}` });
const expected = Buffer.from(`Bearer ${secret}`);

const server = createServer((req, res) => {
  const given = Buffer.from(req.headers.authorization ?? '');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    res.writeHead(401).end();
    req.resume();
    return;
  }
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk: string) => (body += chunk));
  req.on('end', () => {
    let round: { done: string[]; max: number };
    try {
      round = JSON.parse(body) as { done: string[]; max: number };
    } catch {
      res.writeHead(400).end('the body is not JSON');
      return;
    }
    const { done, max } = round;
    pool
      .query<{ claims: unknown }>({
        name: 'floor_round',
        text: FLOOR_ROUND,
        values: [done, 'floor', Date.now(), max],
      })
      .then(
        (r) => {
          const text = JSON.stringify({ claims: r.rows[0]?.claims ?? [] });
          res.writeHead(200, {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(text),
          });
          res.end(text);
        },
        (err: unknown) => {
          res.writeHead(500).end(String(err));
        },
      );
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => {
  server.close();
  void pool.end().then(() => process.exit(0));
});
