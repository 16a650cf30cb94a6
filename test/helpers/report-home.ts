import { fixture } from './host.js';
import type { ServeProcess, TestHome } from './host.js';

/**
 * A home worked for the morning report's tests: under `serve`, `coder` commits in a git
 * worktree of `repo` and its task ends done; `crasher` exits 1 and its task is blocked after
 * one failure.
 */
export async function workedHome(
  home: TestHome,
  repo: string,
): Promise<{ done: number; failed: number; serve: ServeProcess }> {
  await home.profile('coder', fixture('worktree-worker.sh', 'commit', '1'), [
    '--workspace',
    `worktree:${repo}`,
  ]);
  await home.profile('crasher', fixture('exit-code.sh', '1'), ['--max-failures', '1']);
  const done = await home.task('add the feature', ['--assignee', 'coder']);
  const failed = await home.task('flaky build', ['--assignee', 'crasher']);
  const serve = await home.serve([], { RUN_ENV_DIR: home.root });
  await home.waitStatus(done, 'done', 60_000);
  await home.waitStatus(failed, 'blocked', 60_000);
  return { done, failed, serve };
}
