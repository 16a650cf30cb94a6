import type { AgentRecipe } from './recipe.js';

/**
 * Any MCP-capable CLI: the person gives the whole command after `--`, with `{mcp_config}` (a
 * file of the run in the common `{"mcpServers": ...}` format) and `{prompt}` or
 * `{prompt_file}` where the agent takes them. warden knows nothing of its exit codes.
 */
export const recipe: AgentRecipe = {
  kind: 'mcp',
  title: 'any MCP-capable agent CLI',
  executable: null,
  install: 'install it and give its command after --',
  args: [],
  model_args: [],
  mcp: 'mcp-json',
  env: {},
  rate_limited: { exit_codes: [], lines: [] },
  config_error: { exit_codes: [], lines: [] },
};
