/**
 * Soak (issue #11): a real `warden serve` and real workers under random abuse for N minutes,
 * then SPEC §1's promises checked from the store's history and the workers' own life log.
 *
 * While it runs: tasks keep coming; at random, a worker gets SIGKILL, or SIGSTOP and later
 * SIGCONT; a task gets `warden stop` (sometimes `--requeue`, sometimes `--now`); `serve` gets
 * SIGKILL and is restarted — sometimes just after a worker logged that it is about to call
 * `complete`. Then it stops creating, lets the board settle, stops `serve` (SIGTERM) and checks.
 * Exits 1 if any anomaly count is not 0.
 *
 *   npm run soak -- --minutes 10 [--settle 180] [--max-workers 4] [--keep]
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadWarden } from './lib/dist.js';
import { BenchHome, WARDEN_BIN } from './lib/home.js';
import type { Serve } from './lib/home.js';
import { machine } from './lib/machine.js';
import { processesNaming, verdict } from './lib/soak-check.js';
import { randomBetween, sleep } from './lib/time.js';

const WORKER = fileURLToPath(new URL('./lib/soak-worker.sh', import.meta.url));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

function exited(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => proc.once('exit', () => resolve()));
}

/** Whether `pid` is the worker of `run` (its environment says so), not a reused pid. */
function isWorkerOf(pid: number, run: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8').includes(`\0WARDEN_RUN_ID=${run}\0`);
  } catch {
    return false;
  }
}

export async function run(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      minutes: { type: 'string', default: '10' },
      settle: { type: 'string', default: '180' },
      'max-workers': { type: 'string', default: '4' },
      keep: { type: 'boolean', default: false },
    },
  });
  const durationMs = Number(values.minutes) * 60_000;
  const settleMs = Number(values.settle) * 1000;
  if (!(durationMs > 0) || !(settleMs > 0)) throw new Error('--minutes and --settle: > 0');
  const warden = await loadWarden();
  const home = new BenchHome(warden);
  const lifeLog = join(home.root, 'life.log');
  writeFileSync(lifeLog, '');
  home.env.LIFE_LOG = lifeLog;
  const port = await freePort();
  // A fixed port: workers keep the WARDEN_URL of the serve that started them, and reach the
  // next one there after a restart.
  const serveArgs = ['--port', String(port), '--max-workers', String(values['max-workers'])];
  const counts = {
    created: 0,
    worker_sigkill: 0,
    worker_sigstop: 0,
    warden_stop: 0,
    warden_stop_failed: 0,
    serve_sigkill: 0,
    serve_sigkill_at_complete: 0,
    serve_restarts: 0,
  };
  const stopped = new Set<number>();
  const pending = new Set<Promise<unknown>>();
  const children = new Set<ChildProcess>();
  let serve: Serve | null = null;
  let serveBusy = false;
  let interrupted = false;
  let running = true;
  const onSignal = (): void => {
    if (interrupted) process.exit(130);
    interrupted = true;
    running = false;
    process.stderr.write('soak: interrupted, cleaning up (again to force)\n');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const track = <T>(p: Promise<T>): void => {
    const q = p.catch(() => undefined).finally(() => pending.delete(q));
    pending.add(q);
  };
  const startedAt = Date.now();
  let exitCode = 0;
  try {
    await home.init();
    await home.profile(
      'soak',
      ['/bin/sh', WORKER],
      [
        '--inherit-env',
        'LIFE_LOG',
        '--backoff-base',
        '1s',
        '--backoff-max',
        '5s',
        '--kill-grace',
        '2s',
        '--profile-breaker',
        '1000000',
        '--exit-after-complete',
        '10s',
      ],
    );
    const store = await home.store();
    const actor = warden.person('soak');
    serve = await home.serve(serveArgs);

    const restartServe = async (atComplete: boolean): Promise<void> => {
      if (serveBusy || serve === null || !running) return;
      serveBusy = true;
      try {
        serve.proc.kill('SIGKILL');
        await exited(serve.proc);
        counts.serve_sigkill++;
        if (atComplete) counts.serve_sigkill_at_complete++;
        await sleep(randomBetween(100, 2000));
        serve = await home.serve(serveArgs);
        counts.serve_restarts++;
      } finally {
        serveBusy = false;
      }
    };

    /** A running task's worker (the shim's child), checked by its environment. */
    const pickWorker = async (): Promise<{ task: number; run: number; pid: number } | null> => {
      const live = await store.listTasks({ statuses: ['running'], limit: 1000 });
      const t = live[randomBetween(0, live.length)];
      if (t?.current_run_id == null) return null;
      try {
        const pid = Number(
          readFileSync(join(home.runDir(t.current_run_id), 'worker.pid'), 'utf8').trim(),
        );
        return isWorkerOf(pid, t.current_run_id)
          ? { task: t.id, run: t.current_run_id, pid }
          : null;
      } catch {
        return null;
      }
    };

    const wardenStop = (task: number): Promise<void> => {
      const args = ['stop', String(task)];
      if (Math.random() < 0.5) args.push('--requeue');
      if (Math.random() < 0.3) args.push('--now');
      const child = spawn(process.execPath, [WARDEN_BIN, ...args], {
        env: home.env,
        stdio: 'ignore',
      });
      children.add(child);
      const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
      return new Promise((resolve) =>
        child.on('exit', (code) => {
          clearTimeout(timer);
          children.delete(child);
          if (code !== 0) counts.warden_stop_failed++;
          resolve();
        }),
      );
    };

    const creator = async (): Promise<void> => {
      while (running && Date.now() - startedAt < durationMs) {
        await store.createTask({ title: `soak ${counts.created}`, assignee: 'soak' }, actor);
        counts.created++;
        await sleep(randomBetween(300, 1500));
      }
    };

    const chaos = async (): Promise<void> => {
      while (running && Date.now() - startedAt < durationMs) {
        await sleep(randomBetween(1000, 4000));
        if (!running) break;
        const dice = Math.random();
        if (dice < 0.15) {
          track(restartServe(false));
          continue;
        }
        const w = await pickWorker();
        if (w === null) continue;
        if (dice < 0.45) {
          process.kill(w.pid, 'SIGKILL');
          counts.worker_sigkill++;
        } else if (dice < 0.75) {
          process.kill(w.pid, 'SIGSTOP');
          stopped.add(w.pid);
          counts.worker_sigstop++;
          track(
            sleep(randomBetween(300, 4000)).then(() => {
              if (stopped.delete(w.pid) && isWorkerOf(w.pid, w.run)) process.kill(w.pid, 'SIGCONT');
            }),
          );
        } else {
          counts.warden_stop++;
          track(wardenStop(w.task));
        }
      }
    };

    /** Watches the life log; now and then kills serve right as a worker is completing. */
    const completions = async (): Promise<void> => {
      let offset = 0;
      while (running && Date.now() - startedAt < durationMs) {
        await sleep(50);
        const text = readFileSync(lifeLog, 'utf8');
        const fresh = text.slice(offset);
        offset = text.length;
        if (/^completing /m.test(fresh) && Math.random() < 0.15) {
          await sleep(randomBetween(0, 250));
          track(restartServe(true));
        }
      }
    };

    process.stderr.write(
      `soak: ${values.minutes} min in ${home.root} (serve on port ${port}); settle up to ${values.settle} s\n`,
    );
    await Promise.all([creator(), chaos(), completions()]);
    running = false;
    if (interrupted) {
      // No verdict on a cut-short soak: the board never settled.
      exitCode = 130;
      return;
    }
    // Let pending SIGCONTs, stops and restarts finish, then wake anything still stopped.
    await Promise.all([...pending]);
    for (const pid of stopped) process.kill(pid, 'SIGCONT');
    stopped.clear();
    if (serve === null || serve.proc.exitCode !== null || serve.proc.signalCode !== null) {
      serve = await home.serve(serveArgs);
      counts.serve_restarts++;
    }

    const settleStart = Date.now();
    const open = ['triage', 'todo', 'ready', 'running', 'review'] as const;
    while (!interrupted && Date.now() - settleStart < settleMs) {
      if ((await store.listTasks({ statuses: [...open], limit: 1 })).length === 0) break;
      await sleep(500);
    }
    const settleS = (Date.now() - settleStart) / 1000;
    await home.stopServes();
    await sleep(1000);

    const result = await verdict(store, readFileSync(lifeLog, 'utf8'), (r) =>
      r.process === null ? false : warden.isSameProcessAlive(r.process),
    );
    // Runs still legitimately running keep their processes; anything else naming the home is
    // left behind.
    const live = new Set(
      (await store.listTasks({ statuses: ['running'], limit: 100_000 })).map(
        (t) => `\0WARDEN_RUN_ID=${t.current_run_id}\0`,
      ),
    );
    const left = processesNaming(home.root).filter(
      (p) => !(result.counts.running_at_end && [...live].some((k) => p.env.includes(k))),
    );
    result.anomalies.processes_left = left.length;
    for (const p of left) result.details.push(`process ${p.pid} left: ${p.cmd}`);

    const m = machine();
    const out = process.stdout;
    out.write(
      `\n## Soak: ${values.minutes} min (+${settleS.toFixed(0)} s to settle), ` +
        `${new Date(startedAt).toISOString()}\n\n` +
        `machine: ${m.cpus} × ${m.cpu_model}, ${m.os}, node ${m.node}, commit ${m.commit}, ` +
        `load ${m.load_average}\n\n| count | value |\n|---|---|\n`,
    );
    for (const [k, v] of Object.entries({ ...counts, ...result.counts })) {
      out.write(`| ${k} | ${v} |\n`);
    }
    out.write('\n| anomaly | count |\n|---|---|\n');
    for (const [k, v] of Object.entries(result.anomalies)) out.write(`| ${k} | ${v} |\n`);
    for (const d of result.details.slice(0, 50)) out.write(`- ${d}\n`);
    if (Object.values(result.anomalies).some((v) => v !== 0)) exitCode = 1;
  } finally {
    running = false;
    await home.stopServes();
    for (const c of children) c.kill('SIGKILL');
    for (const pid of stopped) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // gone
      }
    }
    if (values.keep) {
      process.stderr.write(`soak: home kept at ${home.root}\n`);
    } else {
      // Runs by identity first, then anything else still naming the home.
      await home.cleanup();
      for (const p of processesNaming(home.root)) {
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.exitCode = exitCode;
  }
}
