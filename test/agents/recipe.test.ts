import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { gitIdentityEnv } from '../../src/agents/git-identity.js';
import { findAgent } from '../../src/agents/index.js';
import { AgentSetupError, resolveAgent } from '../../src/agents/recipe.js';
import type { AgentRunValues } from '../../src/agents/recipe.js';

function values(env: Record<string, string>): AgentRunValues {
  return {
    model: 'gpt-5',
    extra: [],
    prompt: 'Work task 1',
    prompt_file: '/h/runs/1/agent/prompt.md',
    agent_dir: '/h/runs/1/agent',
    mcp: { command: '/h/bin/warden', args: ['mcp'], env: { WARDEN_RUN_TOKEN: 'wrun_x' } },
    root: false,
    env,
  };
}

describe('codex through the model proxy', () => {
  const proxied = { WARDEN_LLM_URL: 'http://127.0.0.1:7420/llm/wrun_secret', OPENAI_API_KEY: 'k' };

  it('gets a provider of its own with the token in a header, never on its command line', () => {
    const { argv } = resolveAgent(findAgent('codex'), values(proxied));
    const settings = argv.filter((_, i) => argv[i - 1] === '-c');
    expect(settings).toEqual(
      expect.arrayContaining([
        'model_provider="warden"',
        'model_providers.warden.base_url="http://127.0.0.1:7420/llm/-"',
        'model_providers.warden.wire_api="responses"',
        'model_providers.warden.env_key="OPENAI_API_KEY"',
        'model_providers.warden.env_http_headers={ "x-warden-run-token" = "WARDEN_RUN_TOKEN" }',
        'model_providers.warden.supports_websockets=false',
      ]),
    );
    expect(argv.join(' ')).not.toContain('wrun_');
    expect(argv).toContain('--ephemeral');
    // The model and the prompt still come last.
    expect(argv.slice(-3)).toEqual(['--model', 'gpt-5', 'Work task 1']);
  });

  it("names Codex's own key when only it is set, and adds nothing without a proxy", () => {
    const { argv } = resolveAgent(
      findAgent('codex'),
      values({ WARDEN_LLM_URL: proxied.WARDEN_LLM_URL, CODEX_API_KEY: 'k' }),
    );
    expect(argv).toContain('model_providers.warden.env_key="CODEX_API_KEY"');
    const plain = resolveAgent(findAgent('codex'), values({ OPENAI_API_KEY: 'k' })).argv;
    expect(plain.some((a) => a.startsWith('model_provider'))).toBe(false);
  });
});

describe('OpenCode', () => {
  const opencode = findAgent('opencode');
  const config = (env: Record<string, string>): Record<string, unknown> =>
    JSON.parse(resolveAgent(opencode, values(env)).env.OPENCODE_CONFIG_CONTENT ?? '{}') as Record<
      string,
      unknown
    >;

  it("keeps the profile's own configuration, its MCP servers beside warden's", () => {
    const own = {
      provider: { local: { npm: '@ai-sdk/openai-compatible', options: { baseURL: 'http://m' } } },
      mcp: { other: { type: 'local', command: ['other'] } },
      share: 'auto',
    };
    const got = config({ OPENCODE_CONFIG_CONTENT: JSON.stringify(own) });
    expect(got.provider).toEqual(own.provider);
    expect(Object.keys(got.mcp as object)).toEqual(['other', 'warden']);
    expect(got).toMatchObject({ share: 'disabled', autoupdate: false });
  });

  it('refuses a configuration of its own that is not a JSON object, as a setup error', () => {
    for (const bad of ['{"provider":', '[1]']) {
      expect(() => resolveAgent(opencode, values({ OPENCODE_CONFIG_CONTENT: bad }))).toThrow(
        AgentSetupError,
      );
    }
  });

  it('gets the proxy with /v1 for its Anthropic provider, and nothing else changed', () => {
    const url = 'http://127.0.0.1:7420/llm/wrun_secret';
    const anthropic = resolveAgent(
      opencode,
      values({ WARDEN_LLM_URL: url, ANTHROPIC_BASE_URL: url }),
    ).env;
    expect(anthropic.ANTHROPIC_BASE_URL).toBe(`${url}/v1`);
    const openai = resolveAgent(opencode, values({ WARDEN_LLM_URL: url, OPENAI_BASE_URL: url }));
    expect(openai.env.ANTHROPIC_BASE_URL).toBeUndefined();
    expect(openai.env.OPENAI_BASE_URL).toBeUndefined();
    // A base URL of the person's own, with no proxy, is theirs.
    const own = resolveAgent(opencode, values({ ANTHROPIC_BASE_URL: 'http://m/v1' })).env;
    expect(own.ANTHROPIC_BASE_URL).toBeUndefined();
  });
});

describe("the workspace's git identity for an agent that hides the user's git configuration", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('is what git would use there, for the variables not set already', () => {
    const repo = mkdtempSync(join(tmpdir(), 'warden-identity-'));
    dirs.push(repo);
    execFileSync('git', ['init', '-q', repo]);
    execFileSync('git', ['-C', repo, 'config', 'user.name', 'Ana Lopez']);
    execFileSync('git', ['-C', repo, 'config', 'user.email', 'ana@example.com']);
    expect(gitIdentityEnv({}, repo)).toEqual({
      GIT_AUTHOR_NAME: 'Ana Lopez',
      GIT_COMMITTER_NAME: 'Ana Lopez',
      GIT_AUTHOR_EMAIL: 'ana@example.com',
      GIT_COMMITTER_EMAIL: 'ana@example.com',
    });
    expect(gitIdentityEnv({ GIT_AUTHOR_NAME: 'Bot', GIT_COMMITTER_EMAIL: 'b@x' }, repo)).toEqual({
      GIT_COMMITTER_NAME: 'Ana Lopez',
      GIT_AUTHOR_EMAIL: 'ana@example.com',
    });
  });

  it('is nothing where git knows no identity', () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-identity-'));
    dirs.push(dir);
    const env = {
      ...process.env,
      HOME: dir,
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_CONFIG_NOSYSTEM: '1',
    };
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      expect(gitIdentityEnv({}, dir)).toEqual({});
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });
});
