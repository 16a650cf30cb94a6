/*
 * The run's timeline in the dashboard drawer (issue #15), in a real browser against a real
 * serve: a worker that wrote, reported progress and went silent until it stalled shows its
 * output, progress, warning, signal and ending in lanes, with the why line above.
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.js';
import { TestHome } from '../helpers/host.js';

const SHOTS =
  process.env.WARDEN_SCREENSHOTS === '1'
    ? fileURLToPath(new URL('../../docs/screenshots/', import.meta.url))
    : null;

let browser: Browser;
let home: TestHome | undefined;
let page: Page | undefined;

beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser.close();
});
afterEach(async () => {
  await page?.context().close();
  await home?.cleanup();
  home = undefined;
  page = undefined;
});

describe('the drawer timeline', () => {
  it('puts a stalled run’s output, progress, warning, signal and ending on one axis', async () => {
    home = await new TestHome().init();
    await home.profile(
      'talker',
      ['sh', '-c', 'echo compiling; warden worker progress --note "tests pass"; exec sleep 600'],
      // The stall comes 5 s after the last progress: time for `warden worker progress` to
      // start and be heard first on a busy machine.
      ['--stall-warn-after', '600ms', '--stall-timeout', '5s', '--kill-grace', '5s'],
    );
    const id = await home.task('Talk then hush', ['--assignee', 'talker']);
    await home.serve();
    await home.waitEvent('run_ended', id, 30_000);
    const url = (await home.ok(['open'])).trim();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(url);
    await page.click(`[data-task="${id}"]`);
    const run = (await home.runs(id))[0];
    const section = `[data-drawer="${id}"] [data-timeline="${run?.id}"]`;
    await page.waitForSelector(`${section} [data-why]:has-text("stalled after")`, {
      timeout: 10_000,
    });
    for (const [lane, kind] of [
      ['output', 'output'],
      ['progress', 'progress'],
      ['run', 'stall_warning'],
      ['run', 'signal'],
      ['run', 'end'],
    ])
      expect(
        await page.locator(`${section} [data-lane="${lane}"] [data-kind="${kind}"]`).count(),
        `${lane} ${kind}`,
      ).toBeGreaterThan(0);
    expect(await page.textContent(`${section} .timeline-items`)).toContain('tests pass');
    if (SHOTS) {
      mkdirSync(SHOTS, { recursive: true });
      await page.locator(section).screenshot({ path: `${SHOTS}/timeline.png` });
    }
  });
});
