import { describe, expect, it } from 'vitest';
import { parsePolicyValue } from '../../src/core/policy.js';
import { formatSize, parseSize } from '../../src/core/size.js';

describe('sizes', () => {
  it.for([
    ['1048576', 1_048_576],
    ['512KiB', 512 * 1024],
    ['100MiB', 100 * 1024 ** 2],
    ['100M', 100 * 1024 ** 2],
    ['1.5GiB', 1.5 * 1024 ** 3],
    ['2 gb', 2 * 1024 ** 3],
  ] as const)('%s is %d bytes', ([text, bytes]) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it.for(['', 'lots', '-1MiB', '10 parsecs', ' 1MiB', '1MiB ', '1e6'])('%j is refused', (text) => {
    expect(() => parseSize(text, '--log-cap')).toThrow(/--log-cap: .* is not a size/);
  });

  it('formats bytes the way people read them', () => {
    expect(formatSize(812)).toBe('812 B');
    expect(formatSize(100 * 1024 ** 2)).toBe('100.0 MiB');
    expect(formatSize(1536 * 1024 ** 2)).toBe('1.5 GiB');
  });

  it('log_cap takes a size from a flag or JSON, at least 64 KiB', () => {
    expect(parsePolicyValue('log_cap', '1MiB')).toBe(1024 * 1024);
    expect(parsePolicyValue('log_cap', 65_536, 'json')).toBe(65_536);
    expect(parsePolicyValue('log_cap', '100MiB', 'json')).toBe(100 * 1024 ** 2);
    expect(() => parsePolicyValue('log_cap', '1KiB')).toThrow(
      /log-cap: must be at least 64\.0 KiB/,
    );
    expect(() => parsePolicyValue('log_cap', 1.5, 'json')).toThrow(/log_cap: expected a size/);
    expect(() => parsePolicyValue('log_cap', true, 'json')).toThrow(/log_cap: expected a size/);
  });
});
