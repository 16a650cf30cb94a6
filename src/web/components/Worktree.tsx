import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import type { TaskDetail } from '../api.js';
import { offBranchNote } from '../../core/worktree.js';
import type { TaskDiffView } from '../../core/worktree.js';

interface Props {
  task: TaskDetail;
  version: number;
  /** Show the diff unfolded (a task in review, beside the verdict's buttons). */
  open?: boolean;
}

/** The class of a diff line: added, removed, a hunk or file header, or context. */
function lineClass(line: string): string {
  if (line.startsWith('+++') || line.startsWith('---') || line.startsWith('diff ')) return 'file';
  if (line.startsWith('+')) return 'add';
  if (line.startsWith('-')) return 'del';
  if (line.startsWith('@@')) return 'hunk';
  return '';
}

/**
 * A worktree task's branch, its diffstat and its diff against its base (docs/worktrees.md),
 * read again whenever the board changes; nothing for a task without a worktree.
 */
export function Worktree({ task, version, open = false }: Props) {
  const [diff, setDiff] = useState<TaskDiffView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const wt = task.worktree;
  useEffect(() => {
    if (wt === null) return;
    let stop = false;
    api
      .diff(task.id)
      .then((d) => {
        if (!stop) {
          setDiff(d);
          setError(null);
        }
      })
      .catch((err: unknown) => {
        if (!stop) setError(err instanceof Error ? err.message : String(err));
      });
    return () => {
      stop = true;
    };
  }, [task.id, version, wt?.removed_at]);
  if (wt === null) return null;
  return (
    <section class="worktree" data-worktree={wt.branch}>
      <h3>Worktree</h3>
      <p>
        <code>{wt.branch}</code> from <code>{wt.base_sha.slice(0, 10)}</code>
        {wt.removed_at === null ? ` · ${wt.path}` : ' · removed (the branch stays)'} · host{' '}
        {wt.host_id}
      </p>
      {error !== null && <p class="muted">diff: {error}</p>}
      {diff && (
        <>
          <pre class="log" data-diffstat>
            {diff.stat.trim() === '' ? '(no changes against the base)' : diff.stat}
          </pre>
          {diff.off_branch && (
            <p class="card-note danger" data-off-branch>
              {offBranchNote(diff.off_branch, wt.branch, wt.repo)}
            </p>
          )}
          {diff.diff !== null && diff.diff !== '' && (
            <details open={open}>
              <summary>
                Diff against the base ({diff.against}){diff.truncated ? ', cut at 4 MiB' : ''}
              </summary>
              <pre class="log diff" data-diff>
                {diff.diff.split('\n').map((line, i) => (
                  <div key={i} class={lineClass(line)}>
                    {line}
                  </div>
                ))}
              </pre>
            </details>
          )}
        </>
      )}
    </section>
  );
}
