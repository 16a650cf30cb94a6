import { describe, expect, it } from 'vitest';
import { INHERIT_NAME, inheritedEnv, inherits } from '../../src/core/worker-env.js';

const SERVE_ENV = {
  PATH: '/usr/bin',
  HOME: '/root',
  LANG: 'C.UTF-8',
  LC_ALL: 'C.UTF-8',
  TZ: 'UTC',
  AWS_SECRET_ACCESS_KEY: 'cloud secret',
  AWS_REGION: 'eu-west-1',
  OPENAI_API_KEY: 'model key',
  DATABASE_URL: 'postgres://prod',
  WARDEN_ADMIN_TOKEN: 'admin',
  WARDEN_HOME: '/home/warden',
  UNSET: undefined,
};

describe('what a worker inherits from serve (issue #11)', () => {
  it('is the base set alone when the profile asks for nothing', () => {
    expect(inheritedEnv(SERVE_ENV, [])).toEqual({
      PATH: '/usr/bin',
      HOME: '/root',
      LANG: 'C.UTF-8',
      LC_ALL: 'C.UTF-8',
      TZ: 'UTC',
    });
  });

  it('adds the names and prefixes the profile asks for, and never a WARDEN_ variable', () => {
    const env = inheritedEnv(SERVE_ENV, ['OPENAI_API_KEY', 'AWS_*', 'WARDEN_*', 'WARDEN_HOME']);
    expect(Object.keys(env).sort()).toEqual([
      'AWS_REGION',
      'AWS_SECRET_ACCESS_KEY',
      'HOME',
      'LANG',
      'LC_ALL',
      'OPENAI_API_KEY',
      'PATH',
      'TZ',
    ]);
    expect(inherits('DATABASE_URL', ['OPENAI_API_KEY', 'AWS_*'])).toBe(false);
    expect(inherits('AWS', ['AWS_*'])).toBe(false);
  });

  it('takes names and prefixes ending in *, not a lone * or a pattern inside a name', () => {
    for (const ok of ['OPENAI_API_KEY', 'AWS_*', '_X', 'a1'])
      expect(INHERIT_NAME.test(ok)).toBe(true);
    for (const bad of ['*', '', '1X', 'A*B', 'A B', 'A-B', 'A**'])
      expect(INHERIT_NAME.test(bad)).toBe(false);
  });
});
