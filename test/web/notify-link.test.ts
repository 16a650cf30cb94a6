/**
 * A notification's link opens its task in the dashboard (issue #15): a real serve sends a
 * message to a real local receiver, and a real browser follows the link in it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchBrowser } from '../helpers/browser.js';
import { TestHome, waitFor } from '../helpers/host.js';
import { startReceiver } from '../helpers/notify-receiver.js';

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser.close();
});

describe('a notification’s dashboard link', () => {
  it('opens the drawer of the task it is about', async (ctx) => {
    const home = await new TestHome().init();
    const target = await startReceiver();
    ctx.onTestFinished(async () => {
      await target.close();
      await home.cleanup();
    });
    await home.ok(['notify', 'add', target.url, '--events', 'completed']);
    await home.serve();
    await home.task('something else');
    const id = await home.task('the linked one');
    await home.ok(['done', String(id)]);
    const [message] = await waitFor(
      'the message',
      () => target.delivered()[0] && target.delivered(),
    );
    const { link } = JSON.parse(message?.body ?? '{}') as { link: string };
    expect(link).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:\\d+/\\?board=default&task=${id}$`));

    const page = await browser.newPage();
    ctx.onTestFinished(() => page.context().close());
    // Followed before logging in: the page says which login comes back to this task...
    const first = await page.goto(link);
    expect(first?.status()).toBe(401);
    expect(await page.textContent('[role="alert"]')).toBe(
      `Log in with the link \`warden open --task ${id}\` prints.`,
    );
    // ...and that login lands on its drawer.
    await page.goto((await home.ok(['open', '--task', String(id)])).trim());
    await page.waitForSelector(`[data-drawer="${id}"]`, { timeout: 10_000 });
    await page.goto((await home.ok(['open'])).trim());
    await page.waitForSelector('[data-column="ready"]');
    await page.goto(link);
    await page.waitForSelector(`[data-drawer="${id}"]`, { timeout: 10_000 });
    expect(await page.textContent(`[data-drawer="${id}"]`)).toContain('the linked one');
  });
});
