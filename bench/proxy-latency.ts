/**
 * Issue #13: the latency the model-activity proxy adds to a streamed model answer, to its
 * first byte and to each chunk (target under 1 ms at p50 and 5 ms at p99, added).
 *
 * A stand-in of the model API (test/helpers/*-standin.ts) runs in this process and streams
 * each answer in `--chunks` pieces `--chunk-gap-ms` apart, each piece's text the
 * `process.hrtime.bigint()` at which it was written. A real `warden serve` runs a task whose
 * worker saves its `$WARDEN_LLM_URL` and sleeps, holding the run; its profile's
 * `--llm-upstream` is the stand-in. This process then asks the same streamed request of the
 * stand-in directly and through the proxy, by turns (which goes first is drawn each time),
 * over one kept-alive connection each, like an SDK, and through a bare Node proxy (the floor
 * of any proxy written in Node):
 *
 * - time to first byte: from just before the request is sent to its answer's headers;
 * - per chunk: from the stand-in writing a piece to this process reading it (one clock).
 *
 * Added latency is the proxied figure minus the direct one at the same percentile, per round
 * and over all rounds; the rounds' spread says how much it moves.
 *
 *   node bench/run.ts proxy-latency [--rounds 5] [--requests 100] [--chunks 20]
 *     [--chunk-gap-ms 2] [--kind anthropic|openai] [--idle-ms 0]
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startAnthropicStandin } from '../test/helpers/anthropic-standin.js';
import { startOpenAIStandin } from '../test/helpers/openai-standin.js';
import type { StandinBase } from '../test/helpers/standin-http.js';
import { loadWarden } from './lib/dist.js';
import { BenchHome } from './lib/home.js';
import { report } from './lib/results.js';
import { summarize } from './lib/stats.js';
import type { Row, Summary } from './lib/stats.js';
import { sleep, waitFor } from './lib/time.js';

const TARGET = { p50: 1, p99: 5 };

/** Straight to the stand-in, through warden's proxy, or through a bare Node proxy (a floor). */
type Way = 'direct' | 'proxy' | 'bare';
const WAYS: readonly Way[] = ['direct', 'proxy', 'bare'];

/** One streamed answer as this process received it, in ms. */
interface Sample {
  way: Way;
  round: number;
  ttfb: number;
  /** Each piece's way from the stand-in's write to this process's read. */
  chunks: number[];
}

interface Target {
  url: string;
  agent: Agent;
}

/** A text piece's stamp in an SSE event: Anthropic's `text`, OpenAI's `content`. */
const STAMP = /"(?:text|content)":"(\d{6,})"/;

const nsToMs = (ns: bigint): number => Number(ns) / 1e6;

/**
 * The floor of any proxy in Node: a process that pipes each request to the upstream and its
 * answer back (a kept-alive agent, headers flushed at once), with no admission, no accounting.
 */
const BARE_PROXY = `
const http = require('node:http');
const up = new URL(process.env.UPSTREAM);
const agent = new http.Agent({ keepAlive: true });
http.createServer((req, res) => {
  const headers = { ...req.headers, host: up.host };
  const out = http.request({ host: up.hostname, port: up.port, path: req.url, method: req.method, headers, agent }, (answer) => {
    res.writeHead(answer.statusCode, answer.headers);
    res.flushHeaders();
    answer.pipe(res);
  });
  out.on('error', () => res.destroy());
  req.pipe(out);
}).listen(0, '127.0.0.1', function () { process.stdout.write(this.address().port + '\\n'); });
`;

/** Starts the bare proxy in its own process, to `upstream`; resolves with its origin. */
async function startBareProxy(upstream: string): Promise<{ origin: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, ['--input-type=commonjs', '-e', BARE_PROXY], {
    env: { ...process.env, UPSTREAM: upstream },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  proc.stdout?.setEncoding('utf8').on('data', (c: string) => (out += c));
  const port = await waitFor('the bare proxy to listen', () => /^(\d+)\n/.exec(out)?.[1]);
  return { origin: `http://127.0.0.1:${port}`, proc };
}

/** Sends one streamed request and reads its answer to the end. */
function ask(target: Target, body: string, headers: Record<string, string>): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const req = request(
      target.url,
      {
        method: 'POST',
        agent: target.agent,
        headers: { ...headers, 'content-type': 'application/json' },
      },
      (res) => {
        const ttfb = nsToMs(process.hrtime.bigint() - start);
        if (res.statusCode !== 200) {
          res.resume();
          reject(new Error(`${target.url} answered ${res.statusCode}`));
          return;
        }
        const chunks: number[] = [];
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          const now = process.hrtime.bigint();
          text += d;
          for (let cut = text.indexOf('\n\n'); cut >= 0; cut = text.indexOf('\n\n')) {
            const stamp = STAMP.exec(text.slice(0, cut))?.[1];
            text = text.slice(cut + 2);
            if (stamp !== undefined) chunks.push(nsToMs(now - BigInt(stamp)));
          }
        });
        res.on('end', () => resolve({ way: 'direct', round: 0, ttfb, chunks }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The ways in a drawn order. */
function shuffled(ways: readonly Way[]): Way[] {
  return ways
    .map((way) => ({ way, key: Math.random() }))
    .sort((a, b) => a.key - b.key)
    .map((w) => w.way);
}

/**
 * Proxied minus direct at each order statistic (so `p50` is the median's difference, `p99`
 * the 99th percentile's), over `n` proxied samples.
 */
function added(direct: readonly number[], proxy: readonly number[]): Summary {
  const d = summarize(direct);
  const p = summarize(proxy);
  return {
    n: p.n,
    min: p.min - d.min,
    p25: p.p25 - d.p25,
    p50: p.p50 - d.p50,
    p75: p.p75 - d.p75,
    p99: p.p99 - d.p99,
    max: p.max - d.max,
    mean: p.mean - d.mean,
  };
}

/** The median of the rounds' values and their spread, as `0.42 (0.31–0.57)`. */
function spread(values: readonly number[]): string {
  const s = summarize(values);
  return `${s.p50.toFixed(2)} (${s.min.toFixed(2)}–${s.max.toFixed(2)})`;
}

export async function run(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      rounds: { type: 'string', default: '5' },
      requests: { type: 'string', default: '100' },
      chunks: { type: 'string', default: '20' },
      'chunk-gap-ms': { type: 'string', default: '2' },
      kind: { type: 'string', default: 'anthropic' },
      'idle-ms': { type: 'string', default: '0' },
    },
  });
  const rounds = Number(values.rounds);
  const perRound = Number(values.requests);
  const chunks = Number(values.chunks);
  const gap = Number(values['chunk-gap-ms']);
  const kind = values.kind === 'openai' ? 'openai' : 'anthropic';
  const idle = Number(values['idle-ms']);
  if (rounds < 3) throw new Error('--rounds: at least 3, to see the spread');

  const pacing = { chunks, chunkDelayMs: gap, stamp: true };
  const standin: StandinBase =
    kind === 'anthropic'
      ? await startAnthropicStandin([], '', pacing)
      : await startOpenAIStandin(pacing);
  const bare = await startBareProxy(standin.origin);
  const warden = await loadWarden();
  const home = new BenchHome(warden);
  const startedAt = new Date();
  try {
    await home.init();
    const urlFile = join(home.root, 'llm-url');
    await home.profile(
      'holder',
      [
        'sh',
        '-c',
        'printf %s "$WARDEN_LLM_URL" > "$0.tmp" && mv "$0.tmp" "$0" && exec sleep 3600',
        urlFile,
      ],
      ['--llm-upstream', standin.url, '--llm-kind', kind, '--stall-timeout', '1h'],
    );
    await home.cli(['create', 'hold the run', '--assignee', 'holder']);
    // Opened so that cleanup can end the worker should the benchmark fail.
    const store = await home.store();
    await home.serve();
    const proxyBase = await waitFor('the worker to save its WARDEN_LLM_URL', () => {
      try {
        return readFileSync(urlFile, 'utf8') || undefined;
      } catch {
        return undefined;
      }
    });

    // The same request both ways, as the SDKs send it.
    const [path, headers, body] =
      kind === 'anthropic'
        ? [
            '/v1/messages',
            { 'x-api-key': 'bench-key', 'anthropic-version': '2023-06-01' },
            { model: 'claude-standin', max_tokens: 1024, stream: true },
          ]
        : [
            '/chat/completions',
            { authorization: 'Bearer bench-key' },
            { model: 'gpt-standin', stream: true, stream_options: { include_usage: true } },
          ];
    const json = JSON.stringify({ ...body, messages: [{ role: 'user', content: 'say it' }] });
    const direct = `${standin.url}${path}`;
    const agent = (): Agent => new Agent({ keepAlive: true, maxSockets: 1 });
    const targets: Record<Way, Target> = {
      direct: { url: direct, agent: agent() },
      proxy: { url: `${proxyBase}${path}`, agent: agent() },
      bare: { url: `${bare.origin}${new URL(direct).pathname}`, agent: agent() },
    };
    const once = async (way: Way, round: number): Promise<Sample> => {
      const s = await ask(targets[way], json, headers);
      if (s.chunks.length !== chunks)
        throw new Error(`${way}: ${s.chunks.length} stamped chunks, not ${chunks}`);
      return { ...s, way, round };
    };

    // Warm-up: connections, the JIT on both sides, SQLite's first writes of the proxy.
    for (let i = 0; i < 20; i++) for (const way of WAYS) await once(way, 0);

    const samples: Sample[] = [];
    for (let r = 1; r <= rounds; r++) {
      process.stderr.write(`round ${r}/${rounds}: ${perRound} requests each way\n`);
      for (let i = 0; i < perRound; i++) {
        for (const way of shuffled(WAYS)) {
          await sleep(idle);
          samples.push(await once(way, r));
        }
      }
    }
    // Every proxied request is recorded on the held run (the last one just after its answer).
    const sent = 20 + rounds * perRound;
    const [task] = await store.listTasks({ limit: 1 });
    const run = await waitFor(`the held run to record ${sent} requests`, async () => {
      const [r] = await store.listRuns(task?.id ?? 0);
      return r !== undefined && r.llm.requests >= sent ? r : undefined;
    });

    const of = (way: Way, round?: number): Sample[] =>
      samples.filter((s) => s.way === way && (round === undefined || s.round === round));
    const ttfb = (xs: Sample[]): number[] => xs.map((s) => s.ttfb);
    const perChunk = (xs: Sample[]): number[] => xs.flatMap((s) => s.chunks);
    const perRoundRows: Row[] = [];
    const roundFigures: { round: number; ttfb: Summary; chunk: Summary }[] = [];
    for (let r = 1; r <= rounds; r++) {
      const t = added(ttfb(of('direct', r)), ttfb(of('proxy', r)));
      const c = added(perChunk(of('direct', r)), perChunk(of('proxy', r)));
      roundFigures.push({ round: r, ttfb: t, chunk: c });
      perRoundRows.push(
        { label: `round ${r}: first byte, added`, summary: t },
        { label: `round ${r}: per chunk, added`, summary: c },
      );
    }
    report({
      name: 'proxy-latency',
      title: 'model proxy: latency added to the first byte and to each chunk',
      started_at: startedAt.toISOString(),
      duration_s: (Date.now() - startedAt.getTime()) / 1000,
      method:
        `A stand-in ${kind} API in the benchmark process streams each answer in ${chunks} ` +
        `pieces ${gap} ms apart, each stamped with its write time; the same request goes to it ` +
        'directly and through `serve`’s proxy (the held run’s `WARDEN_LLM_URL`), by turns in a ' +
        `drawn order, ${perRound} each way in each of ${rounds} rounds, over one kept-alive ` +
        'connection each. First byte: request sent → answer headers read. Per chunk: piece ' +
        'written → read. "Added" rows: proxied minus direct at the same percentile. The ' +
        'floor: a bare Node proxy in its own process (pipe both ways, no admission, no ' +
        'accounting), measured in the same turns.' +
        (idle > 0 ? ` ${idle} ms idle before each request.` : ''),
      rows: [
        {
          label: 'first byte, added by the proxy',
          summary: added(ttfb(of('direct')), ttfb(of('proxy'))),
          target: TARGET,
        },
        {
          label: 'per chunk, added by the proxy',
          summary: added(perChunk(of('direct')), perChunk(of('proxy'))),
          target: TARGET,
        },
        { label: 'first byte, direct', summary: summarize(ttfb(of('direct'))) },
        { label: 'first byte, through the proxy', summary: summarize(ttfb(of('proxy'))) },
        { label: 'per chunk, direct', summary: summarize(perChunk(of('direct'))) },
        { label: 'per chunk, through the proxy', summary: summarize(perChunk(of('proxy'))) },
        {
          label: 'floor: first byte, added by a bare Node proxy',
          summary: added(ttfb(of('direct')), ttfb(of('bare'))),
        },
        {
          label: 'floor: per chunk, added by a bare Node proxy',
          summary: added(perChunk(of('direct')), perChunk(of('bare'))),
        },
      ],
      notes: perRoundRows,
      samples: [{ rounds: roundFigures, llm: run.llm }, ...samples],
    });
    process.stdout.write(
      `\nOver ${rounds} rounds, median (min–max) of the rounds' added latency, ms:\n` +
        `  first byte p50 ${spread(roundFigures.map((f) => f.ttfb.p50))}, ` +
        `p99 ${spread(roundFigures.map((f) => f.ttfb.p99))}\n` +
        `  per chunk  p50 ${spread(roundFigures.map((f) => f.chunk.p50))}, ` +
        `p99 ${spread(roundFigures.map((f) => f.chunk.p99))}\n` +
        `The held run recorded ${run.llm.requests} proxied requests (${sent} sent).\n`,
    );
  } finally {
    await home.cleanup();
    bare.proc.kill();
    await standin.close();
  }
}
