import type { WorkerContext } from './worker-protocol.js';

/**
 * The prompt an agent recipe gives its agent (`warden worker prompt`, issue #12), built from
 * the worker context alone: the task, its parents' results, why earlier attempts ended and
 * what people said since, then how to report back. Pure, so the CLI, the launcher and the
 * tests build the same text.
 */

/** The most characters a prompt has: it travels as one argument (Linux allows 128 KiB). */
export const PROMPT_MAX_CHARS = 60_000;

/** Each section's share before the whole is cut to `PROMPT_MAX_CHARS`. */
const SECTION_MAX_CHARS = 16_000;

function cut(text: string, max = SECTION_MAX_CHARS): string {
  return text.length > max ? `${text.slice(0, max)}\n[… cut at ${max} characters]` : text;
}

/** The sections as one prompt, cut to `PROMPT_MAX_CHARS`. */
function joined(parts: readonly string[]): string {
  const text = parts.join('\n\n');
  return text.length > PROMPT_MAX_CHARS ? cut(text, PROMPT_MAX_CHARS) : text;
}

function attemptLine(p: WorkerContext['previous_attempts'][number]): string {
  const how =
    p.signal !== null
      ? `killed by ${p.signal}`
      : p.exit_code !== null
        ? `exit ${p.exit_code}`
        : 'no exit status';
  return `- attempt ${p.attempt}: ${p.outcome ?? 'not ended'} (${how}): ${p.reason ?? 'no reason recorded'}`;
}

/**
 * The prompt of a review run (issue #14): the task, the work's summary and evidence, and how
 * to give a verdict. The worktree is the work's, at its head: read it, do not change it.
 */
function reviewPrompt(ctx: WorkerContext, of: NonNullable<WorkerContext['review_of']>): string {
  const { task } = ctx;
  const e = of.evidence;
  const parts = [
    `You are a reviewer for warden, a task board. Review the work done on task ${task.id} (board ${task.board}) by run ${of.run_id}.`,
    `# ${task.title}`,
  ];
  if (task.body.trim() !== '') parts.push(cut(task.body.trim()));
  parts.push("## The worker's summary", cut(of.summary ?? '(none)'));
  if (e !== null) {
    const commits = e.commit_list.map((c) => `- ${c.sha.slice(0, 10)} ${c.subject}`).join('\n');
    parts.push(
      '## What it left',
      cut(
        [
          e.head === null
            ? `Branch ${e.branch}, from ${e.base.slice(0, 10)}: its head, commits and changes could not be read at the ending${e.error ? ` (${e.error})` : ''}; look at the working folder yourself.`
            : `Branch ${e.branch}, from ${e.base.slice(0, 10)} to ${e.head.slice(0, 10)} (the working folder is this worktree, at that head): ${e.commits} commit${e.commits === 1 ? '' : 's'}, ${e.diffstat.files} files, +${e.diffstat.insertions} -${e.diffstat.deletions}.`,
          commits,
        ].join('\n'),
      ),
    );
  }
  const earlier = (ctx.reviews ?? []).filter((r) => r.verdict === 'changes_requested');
  if (earlier.length > 0) {
    parts.push(
      '## Changes asked for in earlier rounds',
      cut(earlier.map((r) => `- ${r.body}`).join('\n')),
    );
  }
  parts.push(
    '## Your verdict',
    [
      'Read the work (look at the diff against the base); do not change files. Then, once:',
      '- `warden_approve` (`warden worker approve --summary …`) if it does what the task asks;',
      '- `warden_request_changes` (`warden worker request-changes --reason …`) with what to change, which the next attempt reads first.',
    ].join('\n'),
  );
  return joined(parts);
}

/** The prompt for the worker of `ctx`'s run. */
export function buildPrompt(ctx: WorkerContext): string {
  if (ctx.review_of !== undefined) return reviewPrompt(ctx, ctx.review_of);
  const { task } = ctx;
  const parts: string[] = [
    `You are a worker of warden, a task board. Work task ${task.id} (board ${task.board}, attempt ${ctx.run.attempt}).`,
  ];
  // Answers to the task's questions come first: an earlier attempt stopped to ask them.
  const answered = (ctx.questions ?? []).filter((q) => q.answer !== null);
  if (answered.length > 0) {
    parts.push(
      '## Answers to questions asked on this task (newest first)',
      cut(
        answered
          .map((q) => `- Q: ${q.question}\n  A (${q.answered_by ?? 'a person'}): ${q.answer ?? ''}`)
          .join('\n'),
      ),
    );
  }
  // A question an earlier attempt asked and a person moved past (unblock, retry) without
  // answering: the attempt is told it will get no answer, not left to ask again unawares.
  const unanswered = (ctx.questions ?? []).filter(
    (q) => q.answer === null && q.run_id !== ctx.run.id,
  );
  if (unanswered.length > 0) {
    parts.push(
      '## Questions asked on this task that were not answered',
      cut(
        [
          ...unanswered.map((q) => `- Q: ${q.question}`),
          'A person put the task back in line without answering. Go on with your best judgement and say in your summary what you assumed, or ask again with `warden_ask` (`warden worker ask --question …`) if you cannot.',
        ].join('\n'),
      ),
    );
  }
  // What a reviewer asked to change comes before the task: this attempt exists to do it.
  const review = (ctx.reviews ?? []).find((r) => r.verdict === 'changes_requested');
  if (review !== undefined) {
    parts.push(
      `## Changes requested in review (by ${review.by}, of run ${review.run_id ?? '?'})`,
      cut(review.body),
    );
  }
  parts.push(`# ${task.title}`);
  if (task.body.trim() !== '') parts.push(cut(task.body.trim()));
  if (ctx.parents.length > 0) {
    parts.push(
      '## Results of the tasks this one waited for',
      cut(
        ctx.parents
          .map(
            (p) => `- task ${p.id}, ${p.title} [${p.status}]: ${p.result?.summary ?? 'no result'}`,
          )
          .join('\n'),
      ),
    );
  }
  const before = ctx.previous_attempts;
  const last = before.at(-1);
  if (last !== undefined) {
    const lines = [before.map(attemptLine).join('\n')];
    if (last.last_lines.length > 0) {
      lines.push(
        `The last lines of attempt ${last.attempt}'s output:`,
        last.last_lines.map((l) => `    ${l}`).join('\n'),
      );
    }
    lines.push('The workspace keeps what earlier attempts left: look at it before starting over.');
    parts.push('## Earlier attempts at this task', cut(lines.join('\n')));
  }
  const since = last?.started_at ?? 0;
  const comments = ctx.comments.filter((c) => c.at >= since);
  if (comments.length > 0) {
    parts.push(
      last === undefined ? '## Comments' : '## Comments since the last attempt started',
      cut(comments.map((c) => `- ${c.actor}: ${c.body}`).join('\n')),
    );
  }
  parts.push(
    '## Reporting',
    [
      "Use warden's MCP tools (server `warden`) where you have them, else the `warden worker` command:",
      '- `warden_progress` (`warden worker progress --note …`) after each step;',
      '- `warden_complete` (`warden worker complete --summary …`) once, with a summary of what you did, then stop;',
      '- `warden_ask` (`warden worker ask --question …`) if you need a person to answer a question, then stop;',
      '- `warden_block` (`warden worker block --reason …`) if a person must decide or supply something.',
    ].join('\n'),
  );
  return joined(parts);
}
