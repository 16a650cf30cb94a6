import { describe, expect, it } from 'vitest';
import { evidenceLine } from '../../src/core/worktree.js';
import type { RunEvidence } from '../../src/core/worktree.js';

const base = 'a'.repeat(40);

describe('a run’s worktree evidence in one line', () => {
  it('gives the range, commits and changes when the head was read', () => {
    const e: RunEvidence = {
      branch: 'warden/4',
      base,
      head: 'b'.repeat(40),
      commits: 1,
      commit_list: [],
      diffstat: { files: 2, insertions: 5, deletions: 1 },
      rescue: { ref: 'refs/warden/rescue/4/9', sha: 'c'.repeat(40), files: 1 },
    };
    expect(evidenceLine(e)).toBe(
      'warden/4 aaaaaaaaaa..bbbbbbbbbb; 1 commit; 2 files +5 -1; uncommitted changes (1) saved in refs/warden/rescue/4/9',
    );
  });

  it('says commits and changes are unknown, not 0, when the head could not be read', () => {
    const e: RunEvidence = {
      branch: 'warden/4',
      base,
      head: null,
      commits: 0,
      commit_list: [],
      diffstat: { files: 0, insertions: 0, deletions: 0 },
      rescue: null,
      error: 'the worktree /h/worktrees/4 is gone',
    };
    expect(evidenceLine(e)).toBe(
      'warden/4 aaaaaaaaaa..?; commits and changes unknown; evidence incomplete: the worktree /h/worktrees/4 is gone',
    );
  });
});
