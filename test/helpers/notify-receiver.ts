/**
 * A real local webhook receiver for the notification tests: an HTTP server that records every
 * request and answers as the test says (200, an error status, or never).
 */
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the receiver got. */
export interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
  /** What it was answered: a status, or `hang` for no answer. */
  answered: number | 'hang';
  /** When it arrived (ms). */
  at: number;
  /** When the sender gave up on a request left unanswered (ms), or null while it waits. */
  droppedAt: number | null;
}

/** How to answer the `n`th request (0-based): a status, later (a promise of one), or never. */
export type Answer = (n: number, req: Received) => number | 'hang' | Promise<number>;

export interface Receiver {
  url: string;
  received: Received[];
  /** Requests answered 2xx. */
  delivered(): Received[];
  /** Changes how later requests are answered. */
  answer(a: Answer): void;
  /** The most requests it held open at once. */
  maxInFlight(): number;
  close(): Promise<void>;
}

/** Starts a receiver on a free loopback port. */
export async function startReceiver(answer: Answer = () => 200): Promise<Receiver> {
  const received: Received[] = [];
  const hanging: http.ServerResponse[] = [];
  let how = answer;
  let open = 0;
  let most = 0;
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => (body += c));
    req.on('end', () => {
      const r: Received = {
        headers: req.headers,
        body,
        answered: 200,
        at: Date.now(),
        droppedAt: null,
      };
      const a = how(received.length, r);
      received.push(r);
      open += 1;
      most = Math.max(most, open);
      const reply = (status: number): void => {
        r.answered = status;
        open -= 1;
        res.writeHead(status, { 'content-type': 'text/plain' }).end(`answer ${status}`);
      };
      if (a === 'hang') {
        r.answered = 'hang';
        hanging.push(res);
        res.on('close', () => (r.droppedAt = Date.now()));
      } else if (typeof a === 'number') reply(a);
      else void a.then(reply);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    delivered: () => received.filter((r) => typeof r.answered === 'number' && r.answered < 300),
    answer: (a) => (how = a),
    maxInFlight: () => most,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Whether a request's `X-Warden-Signature` is the HMAC with `secret` of its timestamp, its
 * delivery key and its body, and its `X-Warden-Timestamp` is within 5 minutes of now.
 */
export function signedWith(r: Received, secret: string): boolean {
  const ts = String(r.headers['x-warden-timestamp'] ?? '');
  const key = String(r.headers['x-warden-delivery'] ?? '');
  const mac = createHmac('sha256', secret).update(`${ts}.${key}.${r.body}`, 'utf8').digest('hex');
  const fresh = Math.abs(Date.now() / 1000 - Number(ts)) <= 300;
  return fresh && r.headers['x-warden-signature'] === `sha256=${mac}`;
}
