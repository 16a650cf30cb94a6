import { describe, expect, it } from 'vitest';
import { INPUT_LIMITS } from '../../src/core/defaults.js';
import { checkMetadata, forbiddenCharacter, jsonDepth } from '../../src/core/checks.js';

describe('jsonDepth', () => {
  it.each([
    [1, 0],
    [null, 0],
    [[], 1],
    [{ a: [1, { b: 2 }] }, 3],
    [[[], [[]]], 3],
  ])('measures %j as %d', (value, depth) => {
    expect(jsonDepth(value, 100)).toBe(depth);
  });

  it('measures 100,000 levels without overflowing the stack, stopping past the limit', () => {
    const deep: unknown = JSON.parse('['.repeat(100_000) + ']'.repeat(100_000));
    expect(jsonDepth(deep, 64)).toBe(65);
    expect(() => checkMetadata(deep)).toThrow(
      `metadata: JSON nests deeper than ${INPUT_LIMITS.json_max_depth} levels of arrays and objects; flatten it`,
    );
  });
});

describe('forbiddenCharacter', () => {
  it.each([
    ['a\u0000b', 'U+0000'],
    ['tab\there', 'U+0009'],
    ['\u007f', 'U+007F'],
    ['\u009b', 'U+009B'],
    ['\u202a', 'U+202A'],
    ['\u202e', 'U+202E'],
    ['\u2066', 'U+2066'],
    ['\u2069', 'U+2069'],
  ])('refuses %j in a line (%s)', (text, point) => {
    expect(forbiddenCharacter(text, false)).toBe(
      `must not contain control or bidi-override characters (found ${point})`,
    );
  });

  it('lets a line hold any other text, emoji and right-to-left script included', () => {
    for (const text of ['Port the parser', 'naïve café', '😀 done', 'שלום עולם', 'a\u200db'])
      expect(forbiddenCharacter(text, false)).toBeNull();
  });

  it('lets free text keep tabs and line ends, but not NUL, ESC, DEL or C1', () => {
    expect(forbiddenCharacter('a\tb\nc\r\n', true)).toBeNull();
    expect(forbiddenCharacter('right\u202eto left', true)).toBeNull();
    for (const [text, point] of [
      ['\u0000', 'U+0000'],
      ['\u001b[2J', 'U+001B'],
      ['\u007f', 'U+007F'],
      ['\u0085', 'U+0085'],
      ['\u000b', 'U+000B'],
    ] as const) {
      expect(forbiddenCharacter(text, true)).toBe(
        `must not contain control characters other than tab and newline (found ${point})`,
      );
    }
  });
});
