import type { AgentRecipe } from './recipe.js';

/**
 * Claude Code (`claude`). Print mode with stream-json, which needs --verbose, so every step is
 * a line of output (progress); plain -p is silent until the end and would look stalled. The
 * MCP file is the run's own and --strict-mcp-config ignores the user's and the project's
 * servers. Exit 1 is its only failure code: the kind is in its last lines.
 */
export const recipe: AgentRecipe = {
  kind: 'claude-code',
  llm_kind: 'anthropic',
  title: 'Claude Code',
  executable: 'claude',
  install: 'npm install -g @anthropic-ai/claude-code',
  args: [
    '-p',
    '{prompt}',
    '--output-format',
    'stream-json',
    '--verbose',
    '--dangerously-skip-permissions',
    '--mcp-config',
    '{mcp_config}',
    '--strict-mcp-config',
    // No copy of every run's prompt and conversation kept under ~/.claude/projects (a trial's
    // night left 14 MB there), as codex's --ephemeral; warden's run log is the record.
    '--no-session-persistence',
  ],
  model_args: ['--model', '{model}'],
  mcp: 'mcp-json',
  env: {
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_TELEMETRY: '1',
    DISABLE_AUTOUPDATER: '1',
    DISABLE_ERROR_REPORTING: '1',
    DISABLE_BUG_COMMAND: '1',
    CLAUDE_CODE_DISABLE_FEEDBACK_SURVEY: '1',
    // warden's few tools go straight into the tool list rather than behind a search.
    ENABLE_TOOL_SEARCH: 'false',
  },
  // Its message sockets and scratch files stay in the run's folder.
  force_env: { TMPDIR: '{agent_dir}/tmp' },
  // --dangerously-skip-permissions refuses root unless it is told it runs in a sandbox.
  root_env: { IS_SANDBOX: '1' },
  rate_limited: {
    exit_codes: [],
    lines: [
      /API Error: Request rejected \(429\)/,
      /"error":"rate_limit"/,
      /"api_error_status":429\b/,
      /You've hit your [^"]*limit/,
      /usage_limit_reached/,
    ],
  },
  config_error: {
    exit_codes: [],
    lines: [
      /"error":"(authentication_failed|model_not_found|billing_error|oauth_org_not_allowed)"/,
      /Invalid API key/,
      /Not logged in · Please run \/login/,
      /There's an issue with the selected model/,
      /Credit balance is too low/,
      /cannot be used with root\/sudo privileges/,
    ],
  },
};
