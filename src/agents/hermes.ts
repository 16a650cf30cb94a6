import type { AgentRecipe } from './recipe.js';

/**
 * Hermes Agent (`hermes`). `chat --oneshot -q` answers once and exits, printing its tool calls
 * as it goes (`-z` is silent until the end); --yolo approves commands. It reads MCP servers
 * only from `config.yaml` in its home, so the run gets its own HERMES_HOME: name the model
 * with --model and give the provider's key in the environment (`--inherit-env`).
 */
export const recipe: AgentRecipe = {
  kind: 'hermes',
  title: 'Hermes Agent',
  executable: 'hermes',
  install: "pip install 'hermes-agent[mcp]' (Python 3.14)",
  args: ['chat', '--oneshot', '--yolo', '{model_args}', '{extra}', '-q', '{prompt}'],
  model_args: ['--model', '{model}'],
  mcp: 'hermes-config',
  env: {},
  rate_limited: { exit_codes: [], lines: [/\b429\b.*Too Many Requests/i, /\brate.?limit(ed)?\b/i] },
  config_error: {
    exit_codes: [],
    lines: [/\b(missing|invalid|no) API key\b/i, /--provider requires --model/],
  },
};
