import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { admit, blockedBy, emptyLoad } from '../../src/core/admission.js';
import type { Candidate, Caps } from '../../src/core/admission.js';

const caps: Caps = {
  host: 5,
  profiles: new Map([
    ['a', 3],
    ['b', 3],
    ['c', null],
  ]),
  groups: new Map([['llm', { max: 2, scope: 'board' }]]),
};

function cands(spec: string): Candidate[] {
  return spec
    .split('')
    .map((p, i) => ({ taskId: i + 1, profile: p, group: p === 'c' ? 'llm' : null }));
}

describe('admit', () => {
  it('fills in order up to each cap and skips what cannot start without delaying the rest', () => {
    const picked = admit(cands('aaaabbb'), emptyLoad(), caps);
    expect(picked.map((c) => c.taskId)).toEqual([1, 2, 3, 5, 6]);
  });

  it('counts live runs, including ending ones, already on the host', () => {
    const load = emptyLoad();
    load.host = 4;
    load.profiles.set('a', 3);
    expect(admit(cands('aab'), load, caps).map((c) => c.taskId)).toEqual([3]);
    expect(load.host).toBe(5);
  });

  it('holds a concurrency group to its cap across profiles', () => {
    const picked = admit(cands('ccca'), emptyLoad(), caps);
    expect(picked.map((c) => c.taskId)).toEqual([1, 2, 4]);
    const load = emptyLoad();
    load.groups.set('llm', 2);
    expect(blockedBy({ taskId: 9, profile: 'c', group: 'llm' }, load, caps)).toBe(
      'group llm cap full (2/2, scope board)',
    );
  });

  it('never exceeds any cap, for any order of candidates and any starting load', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('a', 'b', 'c'), { maxLength: 40 }),
        fc.integer({ min: 0, max: 5 }),
        (profiles, startHost) => {
          const load = emptyLoad();
          load.host = startHost;
          const picked = admit(
            profiles.map((p, i) => ({ taskId: i, profile: p, group: p === 'c' ? 'llm' : null })),
            load,
            caps,
          );
          const per = (p: string): number => picked.filter((c) => c.profile === p).length;
          return (
            startHost + picked.length <= caps.host &&
            per('a') <= 3 &&
            per('b') <= 3 &&
            per('c') <= 2 &&
            new Set(picked.map((c) => c.taskId)).size === picked.length
          );
        },
      ),
    );
  });
});
