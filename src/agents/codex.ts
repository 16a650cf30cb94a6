import type { AgentRecipe } from './recipe.js';

/**
 * OpenAI Codex CLI (`codex`). `exec --json` streams JSONL events; approvals and its sandbox
 * are off (warden supervises, and a worktree's commits write outside the workspace, which its
 * workspace-write sandbox refuses). The MCP server comes in `-c` overrides, so the user's
 * ~/.codex (and its login) stays untouched; the prompt goes last, stdin is /dev/null.
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
    '-c',
    'check_for_update_on_startup=false',
    '-c',
    'analytics.enabled=false',
    '-c',
    'feedback.enabled=false',
    '-c',
    'otel.exporter="none"',
    '{mcp_args}',
    '{model_args}',
    '{extra}',
    '{prompt}',
  ],
  model_args: ['--model', '{model}'],
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
      /unexpected status 40[134]\b/,
      /Missing environment variable: `[^`]+`/,
      /Model provider `[^`]+` not found/,
      /required MCP servers failed to initialize/,
      /To use Codex with your ChatGPT plan, upgrade/,
    ],
  },
};
