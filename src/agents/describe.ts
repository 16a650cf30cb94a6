import { llmEnv } from '../core/llm.js';
import type { Profile } from '../core/profile.js';
import { checkAgentCommand, parseAgentArgv } from './index.js';
import { resolveAgent } from './recipe.js';
import type { AgentLaunch } from './recipe.js';

/** Names whose values `profile show` masks: keys, tokens, passwords and the like. */
const SECRET_NAME = /TOKEN|SECRET|PASSW|KEY|AUTH|CREDENTIAL|PRIVATE|COOKIE|SESSION/i;

/** A value as `profile show` prints it: masked when its name looks secret. */
export function maskValue(name: string, value: string): string {
  return SECRET_NAME.test(name) ? '********' : value;
}

/** What a run of an agent profile starts, with the run's values as placeholders. */
export function resolvedAgentProfile(
  p: Profile,
  home: string,
  root: boolean,
): (AgentLaunch & { kind: string; title: string }) | null {
  const cmd = parseAgentArgv(p.argv);
  if (cmd === null) return null;
  const recipe = checkAgentCommand(cmd);
  const agentDir = `${home}/runs/<run>/agent`;
  const launch = resolveAgent(recipe, {
    model: cmd.model,
    extra: cmd.extra,
    prompt: '<prompt: warden worker prompt>',
    prompt_file: `${agentDir}/prompt.md`,
    agent_dir: agentDir,
    mcp: {
      command: `${home}/bin/warden`,
      args: ['mcp'],
      env: {
        WARDEN_URL: '<serve url>',
        WARDEN_TASK_ID: '<task id>',
        WARDEN_RUN_TOKEN: '<run token>',
      },
    },
    root,
    // With the proxy's variables, so a recipe's proxy arguments show as a run gets them.
    env: { ...p.env, ...llmEnv(p.llm, '<serve url>', '<run token>') },
  });
  return { ...launch, kind: recipe.kind, title: recipe.title };
}

/** The resolved argv, env (secrets masked) and MCP configuration, for `profile show`. */
export function agentProfileText(p: Profile, home: string, root: boolean): string | null {
  const r = resolvedAgentProfile(p, home, root);
  if (r === null) return null;
  // The proxy's variables too (`--llm-upstream`), set over the profile's own, and the
  // recipe's over both, as a run gets them (launch.ts): OpenCode's merged configuration, its
  // proxy URL with /v1.
  const env = { ...p.env, ...llmEnv(p.llm, '<serve url>', '<run token>'), ...r.env };
  const lines = [
    `agent:             ${r.kind} (${r.title}), started per run by \`warden agent-run\``,
    `resolved argv:     ${JSON.stringify(r.argv)}`,
    'resolved env:',
    ...Object.entries(env).map(([k, v]) => `  ${k}=${maskValue(k, v)}`),
  ];
  for (const f of r.files)
    lines.push(`file ${f.path}:`, ...f.content.split('\n').map((l) => `  ${l}`));
  return lines.join('\n');
}
