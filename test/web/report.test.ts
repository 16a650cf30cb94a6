import { mkdirSync, rmSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { SCREENSHOTS as SHOTS, browserPerFile } from '../helpers/browser.js';
import { makeRepo } from '../helpers/git.js';
import { TestHome } from '../helpers/host.js';
import { workedHome } from '../helpers/report-home.js';

const browser = browserPerFile();
let home: TestHome;
let page: Page;
let repo: string;

afterEach(async () => {
  await page.context().close();
  await home.cleanup();
  rmSync(repo, { recursive: true, force: true });
});

describe('the morning report on the dashboard', () => {
  it('a headline of what was worked and its cost; opened, each task with its branch and work, a button to its drawer; the window is kept', async () => {
    home = await new TestHome().init();
    repo = makeRepo();
    const { done, failed } = await workedHome(home, repo);

    const url = (await home.ok(['open'])).trim();
    page = await browser().newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(url);
    await page.waitForSelector('[data-report="2"]');
    expect(await page.textContent('[data-report-headline]')).toBe('2 tasks (done 1, blocked 1)');
    expect(await page.textContent('[data-report-spent]')).toBe(' · no model requests');
    // Closed at first: the headline only.
    expect(await page.isVisible(`[data-report-task="${done}"]`)).toBe(false);

    await page.click('.report summary .report-title');
    await page.waitForSelector(`[data-report-task="${done}"]`);
    const rows: string[][] = [];
    for (const tr of await page.$$('[data-report-task]')) {
      const cells: string[] = [];
      for (const td of await tr.$$('td')) cells.push((await td.textContent()) ?? '');
      rows.push(cells);
    }
    expect(rows[0]?.slice(0, 7)).toEqual([
      `#${done}`,
      'done',
      'add the feature',
      `warden/${done}`,
      '1 commit, 1 file +1 -0',
      '1',
      '-',
    ]);
    expect(rows[1]?.slice(0, 4)).toEqual([`#${failed}`, 'blocked', 'flaky build', '-']);
    expect(rows[1]?.[7]).toMatch(/^blocked \(failed\): gave_up/);
    if (SHOTS) {
      mkdirSync(SHOTS, { recursive: true });
      await page.screenshot({ path: `${SHOTS}/board-report.png` });
    }

    // A task's button opens its drawer.
    await page.click(`[data-report-task="${failed}"] button`);
    await page.waitForSelector(`[data-drawer="${failed}"]`);

    // The window chosen, and the panel open, are kept for the next visit.
    await page.selectOption('select[aria-label="report window"]', '7d');
    await page.reload();
    await page.waitForSelector(`[data-report-task="${done}"]`);
    expect(await page.inputValue('select[aria-label="report window"]')).toBe('7d');
  }, 90_000);
});
