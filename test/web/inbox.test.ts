import { mkdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { SCREENSHOTS as SHOTS, browserPerFile } from '../helpers/browser.js';
import { TestHome, fixture } from '../helpers/host.js';

const browser = browserPerFile();
let home: TestHome;
let page: Page;

afterEach(async () => {
  await page.context().close();
  await home.cleanup();
});

const item = (kind: string, id?: number): string =>
  `[data-inbox] [data-inbox-item="${kind}"]${id === undefined ? '' : `[data-inbox-task="${id}"]`}`;

describe('the attention inbox on the dashboard (issue #15)', () => {
  it('a panel at the top lists what waits for a person with the command that clears it, its count in the title; a button opens the task, and a reply clears it live', async () => {
    home = await new TestHome().init();
    await home.profile('asker', fixture('ask-then-work.sh', 'ask', 'which colour?'));
    await home.profile('parked', fixture('exit-code.sh', '0'));
    await home.ok(['profile', 'pause', 'parked', '--reason', 'key rotated']);
    const gated = await home.task('Deploy the site', ['--needs-approval']);
    const asked = await home.task('Paint the shed', ['--assignee', 'asker']);
    await home.serve();
    await home.waitStatus(asked, 'blocked');

    const url = (await home.ok(['open'])).trim();
    page = await browser().newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(url);
    await page.waitForSelector('[data-inbox="3"]');
    expect(await page.title()).toBe('(3) warden · default');
    // Newest first: the question came last.
    const kinds: (string | null)[] = [];
    for (const el of await page.$$('[data-inbox] [data-inbox-item]'))
      kinds.push(await el.getAttribute('data-inbox-item'));
    expect(kinds[0]).toBe('question');
    expect(kinds.slice().sort()).toEqual(['approval', 'profile_paused', 'question']);
    expect(await page.textContent(`${item('question', asked)} .inbox-text`)).toBe(
      `#${asked} "Paint the shed" asks: which colour?`,
    );
    expect(await page.textContent(`${item('question', asked)} .inbox-command`)).toBe(
      `warden answer ${asked} TEXT`,
    );
    expect(await page.textContent(`${item('approval', gated)} .inbox-command`)).toBe(
      `warden approve ${gated}`,
    );
    expect(await page.textContent(`${item('profile_paused')} .inbox-command`)).toBe(
      'warden profile resume parked',
    );
    // A profile has no drawer: no button.
    expect(await page.$(`${item('profile_paused')} [data-inbox-open]`)).toBeNull();
    if (SHOTS) {
      mkdirSync(SHOTS, { recursive: true });
      await page.screenshot({ path: `${SHOTS}/board-inbox.png` });
    }

    // The button opens the task's drawer, where the reply clears it; the panel follows live.
    await page.click(`[data-inbox-open="${asked}"]`);
    await page.waitForSelector(
      `[data-drawer="${asked}"] [data-question]:has-text("which colour?")`,
    );
    await page.fill('textarea[aria-label="answer"]', 'blue');
    await page.click('[data-action="answer"]');
    await page.waitForSelector('[data-inbox="2"]', { timeout: 15_000 });
    expect(await page.$(item('question'))).toBeNull();
    expect(await page.title()).toBe('(2) warden · default');

    // Cleared from elsewhere (the CLI), it leaves the page too; an empty inbox is no panel.
    await home.ok(['approve', String(gated)]);
    await home.ok(['profile', 'resume', 'parked']);
    await page.waitForSelector('[data-inbox]', { state: 'detached', timeout: 15_000 });
    expect(await page.title()).toBe('warden · default');
    // The answered task's next attempt finishes before the home is removed.
    await home.waitStatus(asked, 'done');
  }, 90_000);
});
