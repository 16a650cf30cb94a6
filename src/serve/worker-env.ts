import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inheritedEnv } from '../core/worker-env.js';

/** The `warden` entry point of this installation. */
const CLI_PATH = fileURLToPath(new URL('../../bin/warden.js', import.meta.url));

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

/**
 * The environment a worker starts from: the base set and the names its profile inherits from
 * `serve`'s environment (src/core/worker-env.ts), with `warden` first on PATH.
 */
export function workerBaseEnv(
  binDir: string,
  inherit: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  return { ...inheritedEnv(env, inherit), PATH: `${binDir}:${env.PATH ?? '/usr/bin:/bin'}` };
}
