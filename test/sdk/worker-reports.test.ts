/**
 * A pull worker's results ride its next claim (issue #16): one request per task instead of
 * two, against a real `warden serve`. Between the two sits a recording pass-through (real
 * HTTP both ways) that can lose an answer on the way back, or answer for a `serve` too old to
 * know `reports`, to show that no result is lost and none is counted twice.
 */
import { createServer, request } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { TaskDetail, WardenClient } from '../../src/sdk/client.js';
import { createWorker } from '../../src/sdk/worker.js';
import type { WardenWorker } from '../../src/sdk/worker.js';
import { waitFor } from '../helpers/host.js';
import type { TestHome } from '../helpers/host.js';
import { pullHome } from '../helpers/pull-home.js';
import type { PullHome } from '../helpers/pull-home.js';

let home: TestHome;
const workers: WardenWorker[] = [];
const servers: Server[] = [];

afterEach(async () => {
  for (const w of workers.splice(0)) await w.stop();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  await home.cleanup();
});

/** One request as the pass-through saw it. */
interface Seen {
  path: string;
  /** The reports a claim carried. */
  reports: { op: string; summary?: string }[];
  /** The id a claim gave itself. */
  claimId?: string;
  /** How many of them the pass-through kept from serve, answering for it that they failed. */
  failed?: number;
}

/** What the pass-through does to a claim that carries reports. */
type Twist =
  | 'none'
  | 'lose-first-answer'
  | 'lose-first-claimed'
  | 'refuse-as-old-serve'
  | 'fail-first-reports';

/** A pass-through to `target` that records each request and may twist one kind of claim. */
async function passThrough(target: string, twist: Twist): Promise<{ url: string; seen: Seen[] }> {
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
      const lose = carries && twist === 'lose-first-answer' && !twisted;
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

/** A home with a pull profile `noop`, its worker token, a serve and an admin client. */
async function setUp(): Promise<PullHome> {
  const made = await pullHome('noop');
  home = made.home;
  return made;
}

async function allDone(client: WardenClient, ids: readonly number[]): Promise<TaskDetail[]> {
  return waitFor(`tasks ${ids.join(', ')} to be done`, async () => {
    const tasks = await Promise.all(ids.map((id) => client.getTask(id)));
    return tasks.every((t) => t.status === 'done') ? tasks : undefined;
  });
}

function start(url: string, token: string, errors: Error[] = []): WardenWorker {
  const worker = createWorker({
    url,
    token,
    claimWaitMs: 200,
    onError: (err) => errors.push(err),
    handler: (job) => Promise.resolve({ summary: `did ${job.task.title}` }),
  });
  workers.push(worker);
  return worker;
}

describe('a pull worker reports on its next claim (issue #16)', () => {
  it('sends each result on the claim its freed slot starts: one request per task', async () => {
    const { url, client, workerToken } = await setUp();
    const proxy = await passThrough(url, 'none');
    const ids: number[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await client.createTask({ title: `t${i}`, assignee: 'noop' })).id);
    await start(proxy.url, workerToken).start();
    const tasks = await allDone(client, ids);
    expect(tasks.map((t) => t.result?.summary)).toEqual(ids.map((_, i) => `did t${i}`));
    expect(proxy.seen.filter((s) => s.path.startsWith('/api/v1/worker/'))).toEqual([]);
    const carried = proxy.seen.flatMap((s) => s.reports.map((r) => r.summary));
    expect(carried).toEqual(ids.map((_, i) => `did t${i}`));
  });

  it('sends a result again when the answer to the claim carrying it is lost, and it counts once', async () => {
    const { url, client, workerToken } = await setUp();
    const proxy = await passThrough(url, 'lose-first-answer');
    const errors: Error[] = [];
    const task = await client.createTask({ title: 'once', assignee: 'noop' });
    await start(proxy.url, workerToken, errors).start();
    await allDone(client, [task.id]);
    // serve took the report the first time; the worker, told nothing, sent it again.
    await waitFor('the report to be sent again', () =>
      proxy.seen.filter((s) => s.reports.some((r) => r.summary === 'did once')).length >= 2
        ? true
        : undefined,
    );
    await workers[0]?.stop();
    const done = await client.getTask(task.id);
    expect(done.result?.summary).toBe('did once');
    expect(done.runs.map((r) => [r.state, r.outcome])).toEqual([['ended', 'completed']]);
    expect(done.counters).toMatchObject({ failures: 0 });
    const events = await client.events({ task: task.id, limit: 100 });
    expect(events.filter((e) => e.kind === 'run_ended')).toHaveLength(1);
  });

  it("claims again with the same id when a claim's answer is lost, and gets the same run", async () => {
    const { url, client, workerToken } = await setUp();
    const proxy = await passThrough(url, 'lose-first-claimed');
    const task = await client.createTask({ title: 'held', assignee: 'noop' });
    await start(proxy.url, workerToken).start();
    const [done] = await allDone(client, [task.id]);
    // Without the id, the lost answer's run would belong to a live lease that nobody works
    // for, and the task would wait for it to stall.
    expect(done?.runs.map((r) => [r.state, r.outcome])).toEqual([['ended', 'completed']]);
    const claims = proxy.seen.filter((s) => s.path === '/api/v1/pull/claim');
    expect(claims[1]?.claimId).toBe(claims[0]?.claimId);
  });

  it('sends a result again on its own when serve says it could not take it on the claim', async () => {
    const { url, client, workerToken } = await setUp();
    const proxy = await passThrough(url, 'fail-first-reports');
    const ids: number[] = [];
    for (let i = 0; i < 2; i++)
      ids.push((await client.createTask({ title: `t${i}`, assignee: 'noop' })).id);
    await start(proxy.url, workerToken).start();
    const tasks = await allDone(client, ids);
    expect(tasks.map((t) => t.result?.summary)).toEqual(['did t0', 'did t1']);
    // The first result's claim was answered "again"; it then went alone, to its own route.
    expect(proxy.seen.find((s) => s.failed !== undefined)?.reports[0]?.summary).toBe('did t0');
    expect(proxy.seen.filter((s) => s.path === '/api/v1/worker/complete')).toHaveLength(1);
    expect(tasks[0]?.runs.map((r) => r.outcome)).toEqual(['completed']);
  });

  it('goes back to plain claims and a request per result when serve is too old for either', async () => {
    const { url, client, workerToken } = await setUp();
    const proxy = await passThrough(url, 'refuse-as-old-serve');
    const errors: Error[] = [];
    const ids: number[] = [];
    for (let i = 0; i < 3; i++)
      ids.push((await client.createTask({ title: `t${i}`, assignee: 'noop' })).id);
    await start(proxy.url, workerToken, errors).start();
    await allDone(client, ids);
    // The first claim was refused; every later one was sent as that serve knows them, and
    // every result went alone.
    const claims = proxy.seen.filter((s) => s.path === '/api/v1/pull/claim');
    expect(claims[0]?.claimId).toBeDefined();
    const newer = claims.slice(1).filter((s) => s.claimId !== undefined || s.reports.length > 0);
    expect(newer).toEqual([]);
    expect(proxy.seen.filter((s) => s.path === '/api/v1/worker/complete')).toHaveLength(3);
    expect(errors.map((e) => e.message)).toEqual(['claim_id: unrecognized key']);
  });
});
