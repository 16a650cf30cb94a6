import { LLM_TOKEN_HEADER } from '../core/llm.js';
import type { AgentRecipe } from './recipe.js';

/**
 * OpenAI Codex CLI (`codex`). `exec --json` streams JSONL events; approvals and its sandbox
 * are off (warden supervises, and a worktree's commits write outside the workspace, which its
 * workspace-write sandbox refuses). The MCP server comes in `-c` overrides, so the user's
 * ~/.codex config and login are not changed (codex still keeps its logs and state databases
 * there); the prompt goes last, stdin is /dev/null.
 */
export const recipe: AgentRecipe = {
  kind: 'codex',
  llm_kind: 'openai',
  title: 'OpenAI Codex CLI',
  executable: 'codex',
  install: 'npm install -g @openai/codex',
  args: [
    'exec',
    '--json',
    '--skip-git-repo-check',
    '--dangerously-bypass-approvals-and-sandbox',
    // No session files (the prompt and the whole conversation) kept under ~/.codex/sessions.
    '--ephemeral',
    '-c',
    'check_for_update_on_startup=false',
    '-c',
    'analytics.enabled=false',
    '-c',
    'feedback.enabled=false',
    '-c',
    'otel.exporter="none"',
    '{mcp_args}',
    '{llm_args}',
    '{model_args}',
    '{extra}',
    '{prompt}',
  ],
  model_args: ['--model', '{model}'],
  model_aliases: ['-m'],
  // Codex's built-in OpenAI provider does not read OPENAI_BASE_URL: through the proxy it gets
  // a provider of its own, with the run's token in a header (a URL holding it would be on the
  // command line) and no WebSocket transport (the proxy relays HTTP; codex would try one and
  // fall back after five 404s).
  llm_args: [
    '-c',
    'model_provider="warden"',
    '-c',
    'model_providers.warden.name="warden model proxy"',
    '-c',
    'model_providers.warden.base_url="{llm_url}"',
    '-c',
    'model_providers.warden.wire_api="responses"',
    '-c',
    'model_providers.warden.env_key="{llm_key_env}"',
    '-c',
    `model_providers.warden.env_http_headers={ "${LLM_TOKEN_HEADER}" = "WARDEN_RUN_TOKEN" }`,
    '-c',
    'model_providers.warden.supports_websockets=false',
  ],
  mcp: 'codex-overrides',
  env: {},
  rate_limited: {
    exit_codes: [],
    lines: [
      /exceeded retry limit, last status: 429/,
      /You've hit your usage limit/,
      /Quota exceeded\. Check your plan and billing details/,
      /\b(usage_limit_reached|rate_limit_exceeded)\b/,
    ],
  },
  config_error: {
    exit_codes: [],
    lines: [
      // Not its WebSocket attempts (`Reconnecting... 2/5 (unexpected status 404 ...)`, `Falling
      // back from WebSockets to HTTPS transport. unexpected status 404`): a server without
      // WebSockets answers 404 there and codex goes on over HTTPS.
      /^(?!.*(?:Reconnecting\.\.\.|Falling back from WebSockets)).*unexpected status 40[134]\b/,
      /Missing environment variable: `[^`]+`/,
      /Model provider `[^`]+` not found/,
      /required MCP servers failed to initialize/,
      /To use Codex with your ChatGPT plan, upgrade/,
    ],
  },
};
