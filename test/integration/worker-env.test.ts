/*
 * A worker's environment is an allowlist (issue #11, docs/security.md): the base set, the
 * profile's --env, the names its profile inherits, and the run's own WARDEN_* values. Secrets
 * in serve's environment, and warden's own variables, never reach it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BASE_ENV_NAMES } from '../../src/core/worker-env.js';
import { TestHome, waitFor } from '../helpers/host.js';

let home: TestHome | undefined;
afterEach(async () => {
  await home?.cleanup();
  home = undefined;
});

/** A worker that writes its whole environment to `file` (NUL separated) and exits 0. */
function envDumper(file: string): string[] {
  return ['sh', '-c', 'env -0 > "$0.tmp" && mv "$0.tmp" "$0"', file];
}

function readEnv(file: string): Record<string, string> | undefined {
  try {
    return Object.fromEntries(
      readFileSync(file, 'utf8')
        .split('\0')
        .filter((l) => l !== '')
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
  } catch {
    return undefined;
  }
}

describe("a worker's environment (issue #11)", () => {
  it("holds the base set, the profile's --env and --inherit-env names, the run's values: no secret of serve's", async () => {
    const h = await new TestHome().init();
    home = h;
    const file = join(h.root, 'worker.env');
    await h.ok([
      'profile',
      'add',
      'agent',
      '--env',
      'MODEL=small',
      '--inherit-env',
      'MODEL_API_KEY',
      '--inherit-env',
      'XCLOUD_*',
      '--',
      ...envDumper(file),
    ]);
    const id = await h.task('look around', ['--assignee', 'agent']);
    await h.serve([], {
      MODEL_API_KEY: 'asked for',
      XCLOUD_REGION: 'eu',
      XCLOUD_KEY: 'asked for by prefix',
      DATABASE_URL: 'postgres://secret@prod/db',
      GITHUB_TOKEN: 'ghp_not_for_agents',
      WARDEN_ADMIN_TOKEN: 'admin secret',
      LANG: 'C.UTF-8',
      TZ: 'UTC',
    });
    const env = await waitFor('the worker to save its environment', () => readEnv(file));
    await h.waitStatus(id, 'done');

    expect(env).toMatchObject({
      MODEL: 'small',
      MODEL_API_KEY: 'asked for',
      XCLOUD_REGION: 'eu',
      XCLOUD_KEY: 'asked for by prefix',
      LANG: 'C.UTF-8',
      TZ: 'UTC',
      HOME: process.env.HOME,
      WARDEN_TASK_ID: String(id),
    });
    expect(env.PATH?.split(':')[0]).toBe(join(h.root, 'bin'));
    expect(env.WARDEN_RUN_TOKEN).toMatch(/.+/);
    for (const secret of ['DATABASE_URL', 'GITHUB_TOKEN', 'WARDEN_ADMIN_TOKEN', 'WARDEN_HOME'])
      expect(env[secret], secret).toBeUndefined();
    // Nothing else: only what the four sources give, and what sh sets for itself.
    const given = ['MODEL', 'MODEL_API_KEY', 'XCLOUD_REGION', 'XCLOUD_KEY', ...BASE_ENV_NAMES];
    const extra = Object.keys(env).filter(
      (k) =>
        !k.startsWith('WARDEN_') &&
        !k.startsWith('LC_') &&
        !given.includes(k) &&
        !['PWD', 'SHLVL', '_', 'OLDPWD'].includes(k),
    );
    expect(extra).toEqual([]);
  });

  it('refuses to inherit warden variables or everything, and --clear inherit_env empties the list', async () => {
    const h = await new TestHome().init();
    home = h;
    const before = await h.cli(['profile', 'list', '--json']);
    for (const bad of ['WARDEN_ADMIN_TOKEN', 'WARDEN_*', '*', 'A-B']) {
      const r = await h.cli(['profile', 'add', 'p', '--inherit-env', bad, '--', 'sh']);
      expect(r.code, bad).toBe(2);
      expect(r.stderr).toMatch(/^warden: inherit_env\.0: .+\n$/);
    }
    expect(await h.cli(['profile', 'list', '--json'])).toEqual(before);

    await h.ok(['profile', 'add', 'p', '--inherit-env', 'A_KEY', '--', 'sh']);
    const shown = await h.ok(['profile', 'show', 'p']);
    expect(shown).toContain('inherits:          the base set, A_KEY');
    await h.ok(['profile', 'edit', 'p', '--clear', 'inherit_env']);
    const p = JSON.parse(await h.ok(['profile', 'show', 'p', '--json'])) as {
      inherit_env: string[];
      version: number;
    };
    expect(p).toMatchObject({ inherit_env: [], version: 2 });
  });
});
