import type { AgentRecipe } from './recipe.js';

/**
 * Gemini CLI (`gemini`). `-p` with `-o stream-json` streams JSONL events; --yolo because a
 * headless tool call that would ask is denied, --skip-trust because an untrusted folder exits
 * 55 and refuses stdio MCP servers. Its MCP servers are only read from settings files, so the
 * run gets its own GEMINI_CLI_HOME (with telemetry and updates off); a login stored in the
 * user's home is not seen there: give it GEMINI_API_KEY (or Vertex AI variables).
 */
export const recipe: AgentRecipe = {
  kind: 'gemini',
  title: 'Gemini CLI',
  executable: 'gemini',
  install: 'npm install -g @google/gemini-cli',
  args: ['-p', '{prompt}', '--output-format', 'stream-json', '--yolo', '--skip-trust'],
  model_args: ['--model', '{model}'],
  mcp: 'gemini-settings',
  env: {},
  rate_limited: {
    // In JSON modes an API error's HTTP status is its exit status, mod 256: 429 → 173.
    exit_codes: [173],
    lines: [/Please wait and try again later/, /RESOURCE_EXHAUSTED/, /Resource has been exhausted/],
  },
  config_error: {
    // 41 authentication, 44 sandbox, 52 configuration, 55 untrusted folder; 401 → 145.
    exit_codes: [41, 44, 52, 55, 145],
    lines: [
      /you must specify the GEMINI_API_KEY environment variable/,
      /Invalid auth method selected/,
      /Please set an Auth method/,
      /is not running in a trusted directory/,
    ],
  },
};
