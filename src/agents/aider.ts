import type { AgentRecipe } from './recipe.js';

/**
 * Aider (`aider`). It has no MCP client and no JSON output: it reads the prompt from a file
 * (`--message-file`), answers every question yes, and streams plain text (`--no-pretty`).
 * It exits 0 even when the model call failed, so its last lines are read on success too; and
 * as it cannot call warden, exit 0 completes the task with the log's tail. Without a model it
 * would start an interactive sign-in, so a profile must name one.
 */
export const recipe: AgentRecipe = {
  kind: 'aider',
  title: 'Aider',
  executable: 'aider',
  install: 'pipx install aider-chat',
  args: [
    '--message-file',
    '{prompt_file}',
    '--yes-always',
    '--no-pretty',
    '--no-fancy-input',
    '--no-check-update',
    '--no-show-release-notes',
    '--no-analytics',
  ],
  model_args: ['--model', '{model}'],
  requires_model: true,
  mcp: null,
  env: {},
  exit_zero: 'complete',
  signs_on_success: true,
  rate_limited: {
    exit_codes: [],
    lines: [/The API provider has rate limited you/, /litellm\.RateLimitError/],
  },
  config_error: {
    exit_codes: [],
    lines: [
      /The API provider is not able to authenticate you/,
      /Permission was denied\. Check your API key/,
      /Insufficient credits with the API provider/,
      /litellm\.(AuthenticationError|NotFoundError)/,
      /No LLM model was specified/,
    ],
  },
};
