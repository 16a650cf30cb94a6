/*
 * Issue #15: the drawer opens any run's full log, an earlier run's too, a page at a time
 * (the API's offset and bytes), and follows a live one; a log that warden gc removed says so.
 * A real serve, a real browser (Debian's chromium), real workers.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { SCREENSHOTS, browserPerFile } from '../helpers/browser.js';
import { TestHome, waitFor } from '../helpers/host.js';

const browser = browserPerFile();
let home: TestHome;
let page: Page;

afterEach(async () => {
  await page.context().close();
  await home.cleanup();
});

async function openDrawer(id: number): Promise<void> {
  const url = (await home.ok(['open'])).trim();
  page = await browser().newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(url);
  await page.click(`[data-task="${id}"]`);
  await page.waitForSelector(`[data-drawer="${id}"]`);
}

describe('a run’s full log in the drawer', () => {
  it('opens an earlier run’s whole log a page at a time, and follows the live run', async () => {
    home = await new TestHome().init();
    const go = join(home.root, 'go');
    // Attempt 1 prints 400,000 numbered lines (2.7 MB: more than a page) and fails as a
    // configuration error; attempt 2 prints a line, waits for the test, prints 1 MB (more
    // than a page between two looks of the drawer) and a line, and waits for the test again.
    const script = `if [ "$WARDEN_ATTEMPT" = 1 ]; then seq 1 400000; exit 78; fi; echo "second attempt"; while [ ! -e '${go}' ]; do sleep 0.05; done; yes "a flood of output" | head -c 1000000; echo "after the go"; while [ ! -e '${go}.done' ]; do sleep 0.05; done`;
    await home.profile('two', ['sh', '-c', script]);
    const id = await home.task('two attempts', ['--assignee', 'two']);
    await home.serve();
    await home.waitStatus(id, 'blocked');
    await home.ok(['retry', String(id)]);
    await home.waitStatus(id, 'running');
    const [first, second] = (await home.runs(id)).sort((a, b) => a.id - b.id);
    await openDrawer(id);

    // The first run: it opens at the end; Earlier reaches back; Start shows line 1.
    await page.click(`[data-open-log="${first?.id}"]`);
    const firstLog = `[data-full-log="${first?.id}"]`;
    await page.waitForSelector(`${firstLog}:has-text("400000")`);
    const range = page.locator(`[data-run-log="${first?.id}"] [data-log-range]`);
    expect(await range.textContent()).toMatch(/bytes \d+–2688895 of 2688895/);
    // It opens scrolled to its last line, not to the top of its last page.
    const atEnd = (): Promise<boolean> =>
      page.evaluate<boolean>(
        `(() => { const b = document.querySelector('${firstLog}'); return b.scrollTop > 0 && b.scrollTop + b.clientHeight >= b.scrollHeight - 2; })()`,
      );
    await waitFor('the view at the last line', atEnd);
    const before = (await page.locator(firstLog).textContent())?.length ?? 0;
    await page.click(`[data-run-log="${first?.id}"] button:has-text("Earlier")`);
    await waitFor(
      'an earlier page',
      async () => ((await page.locator(firstLog).textContent())?.length ?? 0) > before,
    );
    await page.click(`[data-run-log="${first?.id}"] button:has-text("Start")`);
    await waitFor('the start', async () =>
      (await page.locator(firstLog).textContent())?.startsWith('1\n2\n3\n'),
    );
    // Paging on through the whole log keeps at most four pages (1 MiB) on screen.
    for (let i = 1; i <= 10; i++) {
      await page.click(`[data-run-log="${first?.id}"] button:has-text("Later")`);
      await waitFor(`page ${i + 1}`, async () =>
        new RegExp(`–${Math.min(2688895, (i + 1) * 262144)} of`).test(
          (await range.textContent()) ?? '',
        ),
      );
    }
    expect(await range.textContent()).toMatch(/bytes 1835008–2688895 of 2688895/);
    expect((await page.locator(firstLog).textContent())?.length).toBe(2688895 - 1835008);
    await page.click(`[data-run-log="${first?.id}"] button:has-text("Start")`);
    await waitFor('the start again', async () =>
      (await page.locator(firstLog).textContent())?.startsWith('1\n2\n3\n'),
    );
    if (SCREENSHOTS) {
      await page.locator(`[data-run-log="${first?.id}"]`).scrollIntoViewIfNeeded();
      await page.screenshot({ path: `${SCREENSHOTS}/drawer-full-log.png` });
    }

    // The live run: what it prints after the log was opened shows up.
    await page.click(`[data-open-log="${second?.id}"]`);
    const secondLog = `[data-full-log="${second?.id}"]`;
    await page.waitForSelector(`${secondLog}:has-text("second attempt")`);
    writeFileSync(go, '');
    // Seen while the run still runs: it ends only once the test has seen it. The flood before
    // it is more than a page between two looks: the view jumps to the end and follows on.
    await page.waitForSelector(`${secondLog}:has-text("after the go")`, { timeout: 15_000 });
    writeFileSync(`${go}.done`, '');
    await home.waitStatus(id, 'done');

    // Once gc removed the run folders, the drawer says so in the server's words.
    await home.ok(['gc', '--older-than', '1ms']);
    await page.reload();
    await page.click(`[data-task="${id}"]`);
    await page.click(`[data-open-log="${first?.id}"]`);
    await page.waitForSelector(`[data-log-error]:has-text("log is gone")`);
  });

  it('keeps what it showed while it follows a run that prints a little at a time', async () => {
    home = await new TestHome().init();
    await home.profile('ticks', [
      'sh',
      '-c',
      'i=0; while [ $i -lt 300 ]; do i=$((i+1)); echo "line $i"; sleep 0.1; done',
    ]);
    const id = await home.task('ticks', ['--assignee', 'ticks']);
    await home.serve();
    await home.waitStatus(id, 'running');
    const [run] = await home.runs(id);
    await openDrawer(id);
    await page.click(`[data-open-log="${run?.id}"]`);
    const log = page.locator(`[data-full-log="${run?.id}"]`);
    await page.waitForSelector(`[data-full-log="${run?.id}"]:has-text("line 1")`);
    // Six and more looks, a second apart, each bringing a few lines: before, each was a page
    // of its own and the fifth pushed the start of the log off screen.
    await page.waitForSelector(`[data-full-log="${run?.id}"]:has-text("line 70")`, {
      timeout: 20_000,
    });
    expect((await log.textContent())?.startsWith('line 1\nline 2\n')).toBe(true);
    const range = page.locator(`[data-run-log="${run?.id}"] [data-log-range]`);
    expect(await range.textContent()).toMatch(/^bytes 0–\d+ of \d+/);
    await home.ok(['stop', String(id)]);
  });
});
