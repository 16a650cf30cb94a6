/**
 * A recording pass-through between an SDK worker and `warden serve` (real HTTP both ways) that
 * can twist one kind of claim: lose its answer on the way back, refuse it as a `serve` too old
 * to know `reports`, or answer that `serve` could not take the reports it carried.
 */
import { createServer, request } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const servers: Server[] = [];

/** Closes every pass-through made since the last call. */
export async function closePassThroughs(): Promise<void> {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
}

/** One request as the pass-through saw it. */
export interface Seen {
  path: string;
  /** The reports a claim carried. */
  reports: { op: string; summary?: string }[];
  /** The id a claim gave itself. */
  claimId?: string;
  /** How many of them the pass-through kept from serve, answering for it that they failed. */
  failed?: number;
}

/** What the pass-through does to a claim that carries reports. */
export type Twist =
  | 'none'
  | 'lose-first-answer'
  | 'lose-first-claimed'
  | 'refuse-as-old-serve'
  | 'fail-first-reports'
  /** Loses the answer to the first claim carrying more than one report. */
  | 'lose-first-group';

/** A pass-through to `target` that records each request and may twist one kind of claim. */
export async function passThrough(
  target: string,
  twist: Twist,
): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  let twisted = false;
  const body = (req: IncomingMessage): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      const parts: Buffer[] = [];
      req.on('data', (p: Buffer) => parts.push(p));
      req.on('end', () => resolve(Buffer.concat(parts)));
      req.on('error', reject);
    });
  const server = createServer((req, res) => {
    void body(req).then((sent) => {
      const parsed =
        sent.length > 0
          ? (JSON.parse(sent.toString('utf8')) as { reports?: Seen['reports']; claim_id?: string })
          : {};
      seen.push({
        path: req.url ?? '',
        reports: parsed.reports ?? [],
        ...(parsed.claim_id !== undefined ? { claimId: parsed.claim_id } : {}),
      });
      const claim = req.url === '/api/v1/pull/claim';
      const carries = claim && parsed.reports !== undefined;
      const newer = claim && (parsed.reports !== undefined || parsed.claim_id !== undefined);
      if (newer && twist === 'refuse-as-old-serve') {
        // What a serve from before `claim_id` and `reports` answers: its strict schema
        // refuses the unknown key.
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({ error: { code: 'invalid', message: 'claim_id: unrecognized key' } }),
        );
        return;
      }
      const lose =
        carries &&
        !twisted &&
        (twist === 'lose-first-answer' ||
          (twist === 'lose-first-group' && (parsed.reports?.length ?? 0) > 1));
      const fail = carries && twist === 'fail-first-reports' && !twisted;
      if (lose || fail) twisted = true;
      let forward = sent;
      if (fail) {
        // As a serve that failed on each report but not on the claim: the claim goes on, and
        // the answer says to send each report again on its own.
        const { reports, ...rest } = parsed as { reports: unknown[] };
        forward = Buffer.from(JSON.stringify(rest));
        req.headers['content-length'] = String(forward.length);
        seen.at(-1)!.failed = reports.length;
      }
      const out = request(
        new URL(req.url ?? '/', target),
        { method: req.method, headers: req.headers },
        (answer) => {
          if (lose) {
            // serve has done all of it; only its answer goes missing on the way back.
            answer.resume();
            answer.on('end', () => req.socket.destroy());
            return;
          }
          if (claim && twist === 'lose-first-claimed' && !twisted) {
            // The same, for the first answer that hands out runs.
            void body(answer).then((got) => {
              const claims = (JSON.parse(got.toString('utf8')) as { claims: unknown[] }).claims;
              if (claims.length > 0 && !twisted) {
                twisted = true;
                req.socket.destroy();
                return;
              }
              res.writeHead(answer.statusCode ?? 502, answer.headers);
              res.end(got);
            });
            return;
          }
          if (fail) {
            void body(answer).then((got) => {
              const claimed = JSON.parse(got.toString('utf8')) as Record<string, unknown>;
              const again = { code: 'internal', message: 'serve could not take this report' };
              const n = seen.find((x) => x.failed !== undefined)?.failed ?? 0;
              claimed['reports'] = Array.from({ length: n }, () => ({
                ok: false,
                again: true,
                error: again,
              }));
              res.writeHead(200, { 'content-type': 'application/json' });
              res.end(JSON.stringify(claimed));
            });
            return;
          }
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      out.on('error', () => req.socket.destroy());
      out.end(forward);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}
