/*
 * `/metrics` (SPEC §6): Prometheus' text format behind an admin token, or open alone with
 * `serve --metrics-open`; the board figures come from the store at each scrape.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { TestHome, waitFor } from '../helpers/host.js';
import { makeHarness } from './harness.js';
import type { Harness } from './harness.js';

let h: Harness | undefined;
let home: TestHome | undefined;
afterEach(async () => {
  await h?.cleanup();
  await home?.cleanup();
  h = undefined;
  home = undefined;
});

describe('GET /metrics', () => {
  it('needs an admin token: none, a run token or a bad one is refused', async () => {
    h = await makeHarness();
    const claim = await h.claimNew();
    for (const token of [undefined, claim.token, 'wadm_not-a-token']) {
      const a = await h.request('GET', '/metrics', token === undefined ? {} : { token });
      expect(a.status, String(token)).toBe(401);
      expect(a.body).toMatchObject({ error: { code: 'unauthorized' } });
      expect(a.text).not.toContain('warden_tasks');
    }
  });

  it("reports the board's tasks and runs from the store, this host's workers and Node's own", async () => {
    h = await makeHarness();
    await h.claimNew();
    await h.store.createTask({ title: 'waiting' }, { kind: 'person', name: 'ana' });
    const a = await h.request('GET', '/metrics', { token: h.adminToken });
    expect(a.status).toBe(200);
    expect(a.text).toContain('warden_tasks{board="default",status="running"} 1');
    expect(a.text).toContain('warden_runs{board="default",state="running"} 1');
    expect(a.text).toContain('warden_host_workers 3');
    expect(a.text).toContain('warden_host_dispatching 1');
    expect(a.text).toMatch(/^process_cpu_user_seconds_total \d/m);
    // A later scrape reads the store again.
    await h.store.createTask({ title: 'another' }, { kind: 'person', name: 'ana' });
    const b = await h.request('GET', '/metrics', { token: h.adminToken });
    const total = (text: string) =>
      [...text.matchAll(/^warden_tasks\{board="default",status="\w+"\} (\d+)$/gm)].reduce(
        (sum, m) => sum + Number(m[1]),
        0,
      );
    expect(total(a.text)).toBe(2);
    expect(total(b.text)).toBe(3);
  });

  it('--metrics-open opens /metrics alone: the API still needs its token', async () => {
    h = await makeHarness({ metricsOpen: true });
    const open = await h.request('GET', '/metrics');
    expect(open.status).toBe(200);
    expect(open.text).toContain('warden_host_dispatching 1');
    expect((await h.request('GET', '/api/v1/tasks')).status).toBe(401);
  });

  it('a real serve with --metrics-open answers a scraper with no token', async () => {
    home = await new TestHome().init();
    const serve = await home.serve(['--metrics-open']);
    const text = await waitFor('a scrape', async () => {
      const res = await fetch(`${serve.url}/metrics`);
      return res.status === 200 ? res.text() : undefined;
    });
    expect(text).toContain('warden_host_workers 0');
    const health = await fetch(`${serve.url}/healthz`);
    expect(await health.text()).toBe('ok');
    expect((await fetch(`${serve.url}/api/v1/tasks`)).status).toBe(401);
  });
});
