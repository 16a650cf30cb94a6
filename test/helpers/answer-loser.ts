/**
 * A pass-through to `warden serve` (real HTTP both ways) that loses, on the way back, the
 * answers to the first requests for one path: serve has done the work and answered, and the
 * caller hears nothing but a closed connection. That is what a client sees when serve is
 * killed just after a commit, when PostgreSQL's answer to a COMMIT is lost (serve answers 503),
 * or when the network drops an answer.
 */
import { createServer, request } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface AnswerLoser {
  url: string;
  /** How many requests for the path reached serve. */
  tries(): number;
}

const servers: Server[] = [];

/** Closes every answer loser made since the last call. */
export async function closeAnswerLosers(): Promise<void> {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
}

function bodyOf(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (p: Buffer) => parts.push(p));
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

/** A pass-through to `target` that loses the answers to the first `times` requests for `path`. */
export async function answerLoser(target: string, path: string, times = 1): Promise<AnswerLoser> {
  let tries = 0;
  const server = createServer((req, res) => {
    void bodyOf(req).then((sent) => {
      const mine = req.url === path;
      if (mine) tries++;
      const lose = mine && tries <= times;
      const out = request(
        new URL(req.url ?? '/', target),
        { method: req.method, headers: req.headers },
        (answer) => {
          if (lose) {
            answer.resume();
            answer.on('end', () => req.socket.destroy());
            return;
          }
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      out.on('error', () => req.socket.destroy());
      out.end(sent);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    tries: () => tries,
  };
}
