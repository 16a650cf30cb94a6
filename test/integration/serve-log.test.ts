import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { TestHome, waitFor } from '../helpers/host.js';

// Issue #11, defect 5, end to end through `warden serve`: a body nested 5,000 levels deep
// answered 500 and the serve log said nothing, though the answer said to see it.

let home: TestHome | undefined;
afterEach(async () => {
  await home?.cleanup();
  home = undefined;
});

interface ErrorAnswer {
  error: { code: string; message: string; request_id?: string };
}

describe('warden serve and its log', () => {
  it('refuses deep nesting with 400, and logs a 500 with its cause under the id the answer names', async () => {
    home = await new TestHome().init();
    const id = await home.task('port the parser');
    const serve = await home.serve();
    const token = readFileSync(join(home.root, 'admin.token'), 'utf8').trim();
    const post = async (path: string, body: string) => {
      const res = await fetch(`${serve.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body,
      });
      return {
        status: res.status,
        header: res.headers.get('x-request-id'),
        body: (await res.json()) as ErrorAnswer,
      };
    };

    const deep = '['.repeat(5000) + ']'.repeat(5000);
    const nested = await post(`/api/v1/tasks/${id}/move`, `{"verb":"done","metadata":${deep}}`);
    expect(nested.status).toBe(400);
    expect(nested.body.error.message).toBe(
      'request body nests arrays and objects deeper than 64 levels; flatten it',
    );
    expect((await home.getTask(id)).status).toBe('ready');

    // A real fault under serve: the comments table is gone from the file it writes.
    const db = new Database(join(home.root, 'warden.db'));
    db.exec('ALTER TABLE comments RENAME TO comments_gone');
    try {
      const failed = await post(`/api/v1/tasks/${id}/comments`, '{"body":"hello"}');
      expect(failed.status).toBe(500);
      const requestId = failed.body.error.request_id ?? '';
      expect(requestId).not.toBe('');
      expect(failed.header).toBe(requestId);
      expect(failed.body.error.message).toContain(`request id ${requestId}`);
      const line = await waitFor('the 500 in the serve log', () =>
        serve
          .output()
          .split('\n')
          .find((l) => l.includes(`"request_id":"${requestId}"`)),
      );
      const logged = JSON.parse(line) as {
        level: number;
        status: number;
        err: { message: string };
      };
      expect(logged.level).toBe(50);
      expect(logged.status).toBe(500);
      expect(logged.err.message).toMatch(/no such table: comments/);
      expect(serve.output()).not.toContain(token);
    } finally {
      db.exec('ALTER TABLE comments_gone RENAME TO comments');
      db.close();
    }
  });
});
