import { invalid } from './errors.js';

/** Binary units: a KiB is 1,024 bytes (`K` and `KB` are taken the same way). */
const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};
const PATTERN = /^(\d+(?:\.\d+)?)\s?([a-z]*)$/i;

/**
 * Parses a size such as `100MiB`, `512KiB`, `2G` or `1048576` (bytes) into whole bytes.
 * Units are binary. Throws an `invalid` error naming `what` otherwise.
 */
export function parseSize(text: string, what = 'size'): number {
  const match = PATTERN.exec(text);
  const unit = UNITS[(match?.[2] ?? '').toLowerCase()];
  if (!match || unit === undefined) {
    throw invalid(
      `${what}: '${text}' is not a size; use a number of bytes or a number with a unit, like 512KiB, 100MiB or 1GiB`,
    );
  }
  const bytes = Math.floor(Number(match[1]) * unit);
  if (!Number.isSafeInteger(bytes)) throw invalid(`${what}: '${text}' is too large`);
  return bytes;
}

/** Formats bytes the way people read them: `812 B`, `4.0 KiB`, `100.0 MiB`, `1.5 GiB`. */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  return `${value.toFixed(1)} ${units[i] ?? 'TiB'}`;
}
