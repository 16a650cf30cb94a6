import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The `warden` entry point of this installation. */
const CLI_PATH = fileURLToPath(new URL('../../bin/warden.js', import.meta.url));

/** Variables of `serve`'s own that workers never inherit (SPEC §5: less warden's own secrets). */
function isWardenSecret(name: string): boolean {
  return name.startsWith('WARDEN_');
}

function quote(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

/**
 * Writes `HOME/bin/warden`, a small script that runs this installation's CLI with this
 * Node, so `warden worker ...` works from any worker script.
 */
export function writeWardenShim(homeRoot: string): string {
  const dir = join(homeRoot, 'bin');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, 'warden');
  writeFileSync(path, `#!/bin/sh\nexec ${quote(process.execPath)} ${quote(CLI_PATH)} "$@"\n`, {
    mode: 0o755,
  });
  chmodSync(path, 0o755);
  return dir;
}

/** The environment workers start from: `serve`'s own, less warden's variables, `warden` on PATH. */
export function workerBaseEnv(
  binDir: string,
  env: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(env)) if (!isWardenSecret(key)) out[key] = value;
  out.PATH = `${binDir}:${env.PATH ?? '/usr/bin:/bin'}`;
  return out;
}
