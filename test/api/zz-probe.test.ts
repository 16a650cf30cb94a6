import { it } from 'vitest';
import { makeHarness } from './harness.js';

it('probe', async () => {
  const h = await makeHarness();
  const c = await h.claimNew();
  const show = async (m: string, p: string, o = {}) => {
    const a = await h.request(m, p, o);
    console.log(m, p, a.status, a.text.slice(0, 300));
  };
  await show('GET', '/healthz');
  await show('GET', '/api/v1/openapi.json');
  await show('GET', '/api/v1/openapi.json', { token: h.adminToken });
  await show('GET', '/api/v1/nope');
  await show('GET', '/nope');
  await show('GET', '/api/v1/worker/nope', { token: c.token });
  await show('POST', '/api/v1/tasks/1/stop', { token: h.adminToken });
  await show('POST', '/api/v1/tasks/1/stop', { token: h.adminToken, json: {} });
  await show('POST', '/api/v1/tasks/abc/stop', { token: h.adminToken, json: {} });
  await show('POST', '/api/v1/tasks/99/stop', { token: h.adminToken, json: {} });
  await show('POST', '/api/v1/worker/progress', { token: c.token });
  await show('POST', '/api/v1/worker/progress', { token: c.token, json: {} });
  await show('POST', '/api/v1/worker/progress', { token: c.token, raw: '{bad' });
  await show('POST', '/api/v1/worker/create', {
    token: c.token,
    json: { title: 'x', policy: { stall_timeout: '2h' } },
  });
  await show('POST', '/api/v1/worker/create', {
    token: c.token,
    json: { title: 'x', policy: { stall_timeout: 7200000 } },
  });
  await show('POST', '/api/v1/worker/create', {
    token: c.token,
    json: { title: 'x', board: 'other' },
  });
  await show('POST', '/api/v1/worker/complete', {
    token: c.token,
    raw: JSON.stringify({ summary: 'x'.repeat(300 * 1024) }),
  });
  await show('POST', '/api/v1/worker/context', { token: c.token });
  await show('GET', '/api/v1/worker/context', { token: c.token });
  await h.cleanup();
});
