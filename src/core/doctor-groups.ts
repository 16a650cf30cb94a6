import { counted, formatCount } from './counting.js';
import type { Diagnosis } from './doctor.js';

/** Most task ids a grouped line names before it says how many more. */
const IDS_NAMED = 5;

/** One line of `doctor`: a task on its own, or tasks held the same way and cleared the same way. */
export type DoctorLine = { one: Diagnosis } | { many: Diagnosis[] };

/**
 * Groups the diagnoses that say the same thing (issue #15): 2,000 ready tasks with no assignee
 * are one line, not 2,000. Lines keep the order of each group's first task.
 */
export function groupDiagnoses(diagnoses: readonly Diagnosis[]): DoctorLine[] {
  const groups = new Map<string, Diagnosis[]>();
  for (const d of diagnoses) {
    const same = groups.get(d.group);
    if (same) same.push(d);
    else groups.set(d.group, [d]);
  }
  return [...groups.values()].map((g) => {
    const [first] = g;
    return g.length === 1 && first ? { one: first } : { many: g };
  });
}

/** A group's line: how many, what holds them, which ones, and the command for each. */
export function groupText(many: readonly Diagnosis[]): string {
  const first = many[0];
  if (!first) return '';
  const h = first.hold;
  const named = many.slice(0, IDS_NAMED).map((d) => `#${d.task_id}`);
  const rest = many.length - named.length;
  const ids = rest > 0 ? `${named.join(', ')} and ${formatCount(rest)} more` : named.join(', ');
  const what = h.many !== undefined ? ` ${h.many}` : `: ${h.why}`;
  const head = `${counted(many.length, `${first.status} task`)}${what} (${ids})`;
  return h.action_for_any === null ? head : `${head}; ${h.action_for_any}`;
}

/** Every line of `doctor` as text. */
export function doctorText(lines: readonly DoctorLine[]): string[] {
  return lines.map((l) => ('one' in l ? l.one.explanation : groupText(l.many)));
}
