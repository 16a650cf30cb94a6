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
  model_aliases: ['-m'],
  mcp: 'gemini-settings',
  env: {},
  // Its temporary files (error reports) in the run's folder, not the machine's /tmp.
  force_env: { TMPDIR: '{agent_dir}/tmp' },
  // Its shell tool runs git with GIT_CONFIG_GLOBAL=/dev/null: without these, no commit.
  git_identity: true,
  rate_limited: {
    // In JSON modes an API error's HTTP status is its exit status, mod 256: 429 → 173.
    exit_codes: [173],
    lines: [/Please wait and try again later/, /RESOURCE_EXHAUSTED/, /Resource has been exhausted/],
  },
  config_error: {
    // 41 authentication, 44 sandbox, 52 configuration, 55 untrusted folder; 401 → 145,
    // 403 → 147, 404 (an unknown model) → 148. A bad key is a 400 (→ 144), as any bad request
    // is: only its message says which.
    exit_codes: [41, 44, 52, 55, 145, 147, 148],
    lines: [
      /API key not valid/,
      /API_KEY_INVALID/,
      /you must specify the GEMINI_API_KEY environment variable/,
      /Invalid auth method selected/,
      /Please set an Auth method/,
      /is not running in a trusted directory/,
    ],
  },
};
