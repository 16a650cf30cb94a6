/**
 * The dashboard on a board of 10,000 tasks (SPEC §8: usable in < 1.5 s): from navigating to
 * the page (session cookie already set) to the board painted with its counts and first cards,
 * in Debian's chromium driven by playwright-core. Each sample is a fresh page.
 */
import { performance } from 'node:perf_hooks';
import { loadWarden } from './lib/dist.js';
import { BenchHome } from './lib/home.js';
import { machine } from './lib/machine.js';
import { summarize } from './lib/stats.js';
import { launchBrowser } from '../test/helpers/browser.js';

export async function run(argv: readonly string[]): Promise<void> {
  const samples = Number(argv[argv.indexOf('--samples') + 1]) || 10;
  const warden = await loadWarden();
  const home = new BenchHome(warden);
  const browser = await launchBrowser();
  try {
    await home.init();
    const store = await home.store();
    const bench = warden.person('bench');
    for (let i = 0; i < 10_000; i++) {
      const t = await store.createTask(
        { title: `Task ${i}: ${'word '.repeat(i % 7)}`.trim() },
        bench,
      );
      if (i % 10 < 7) await store.moveTask(t.id, { verb: 'done' }, bench);
      else if (i % 10 === 7)
        await store.moveTask(
          t.id,
          { verb: 'block', reason: 'needs a look', kind: 'needs_input' },
          bench,
        );
    }
    await home.serve();
    const times: number[] = [];
    for (let i = 0; i < samples; i++) {
      const url = (await home.cli(['open'])).trim();
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await context.newPage();
      await page.goto(url); // sets the session cookie and lands on the board
      await page.waitForSelector('[data-column="done"] .card');
      const start = performance.now();
      await page.goto(url.replace(/\/login.*/, '/'));
      await page.waitForSelector('[data-column="done"] .card');
      await page.waitForSelector('[data-column="blocked"] .card');
      times.push(performance.now() - start);
      await context.close();
    }
    const s = summarize(times);
    process.stdout.write(
      `\n## Dashboard: first full paint of a 10,000-task board\n\nmachine: ${JSON.stringify(machine())}\n\n` +
        '| measure | n | median ms | p99 | min | max | target | met |\n|---|--:|--:|--:|--:|--:|---|---|\n' +
        `| navigate → board painted (counts + first cards of every column) | ${s.n} | ${s.p50.toFixed(0)} | ${s.p99.toFixed(0)} | ${s.min.toFixed(0)} | ${s.max.toFixed(0)} | < 1500 | ${s.p50 < 1500 ? 'yes' : '**no**'} |\n`,
    );
  } finally {
    await browser.close();
    await home.cleanup();
  }
}
