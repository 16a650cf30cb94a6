import type { AgentRecipe } from './recipe.js';

/**
 * OpenCode (`opencode`). `run --format json` writes one JSON event a line; --auto approves
 * what is not denied (without it every permission is rejected). The MCP server and the
 * no-share, no-autoupdate settings come in OPENCODE_CONFIG_CONTENT (over the profile's own
 * value of it), which outranks the user's and the project's opencode.json; stdin is /dev/null
 * (it reads a non-terminal stdin to the end).
 */
export const recipe: AgentRecipe = {
  kind: 'opencode',
  title: 'OpenCode',
  executable: 'opencode',
  install: 'npm install -g opencode-ai',
  args: ['run', '--format', 'json', '--auto', '{model_args}', '{extra}', '{prompt}'],
  model_args: ['--model', '{model}'],
  model_aliases: ['-m'],
  model_form: {
    pattern: /^[^/\s]+\/\S+$/,
    example: 'PROVIDER/MODEL (anthropic/claude-sonnet-4-5)',
    why: 'OpenCode answers a model without its provider with "Unexpected server error" and no cause',
  },
  mcp: 'opencode-config',
  env: { OPENCODE_DISABLE_AUTOUPDATE: '1' },
  rate_limited: { exit_codes: [], lines: [/"statusCode":429\b/] },
  config_error: { exit_codes: [], lines: [/"statusCode":40[134]\b/] },
};
