/** A count as people read it: `2,000`. */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** `1 task`, `2,000 tasks`: a count with its noun, plural when it is not one. */
export function counted(n: number, noun: string, plural = `${noun}s`): string {
  return `${formatCount(n)} ${n === 1 ? noun : plural}`;
}

/**
 * The note a listing cut at its limit prints: `1,000 of 2,000 shown; --limit to see more`;
 * null when nothing was cut.
 */
export function cutNote(shown: number, total: number, hint = '--limit to see more'): string | null {
  return total > shown ? `${formatCount(shown)} of ${formatCount(total)} shown; ${hint}` : null;
}
