/*
 * SPEC §9, docs/security.md: a profile's env values (API keys) are printed only by `profile
 * add|edit|list|show --json`. A run carries its profile's env; `show --json` and `runs --json`
 * print its names with the values hidden, as the API does, since people paste them into reports.
 */
import { describe, expect, it } from 'vitest';
import { freshHome } from '../helpers/cli.js';

describe("a run's environment in the CLI's JSON", () => {
  it.concurrent('names its variables and hides their values', async (ctx) => {
    const cli = await freshHome(ctx);
    await cli.json(['profile', 'add', 'keyed', '--env', 'API_KEY=sk-secret-123', '--', 'true']);
    const task = await cli.json<{ id: number }>(['create', 'uses a key', '--assignee', 'keyed']);
    expect((await cli.run(['dispatch', '--once'])).code).toBe(0);
    for (const args of [
      ['show', String(task.id), '--json'],
      ['runs', String(task.id), '--json'],
    ]) {
      const r = await cli.run(args);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout, args.join(' ')).not.toContain('sk-secret-123');
      expect(r.stdout).toContain('"API_KEY": "(hidden)"');
    }
  });
});
