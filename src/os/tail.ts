import { closeSync, openSync, readSync, statSync } from 'node:fs';

/** The last `bytes` bytes of a file as text (a partial first character is dropped). */
export function readTail(path: string, bytes = 4096): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return '';
  }
  try {
    const size = statSync(path).size;
    const length = Math.min(bytes, size);
    const buf = Buffer.alloc(length);
    readSync(fd, buf, 0, length, size - length);
    return buf.toString('utf8').replace(/^\uFFFD+/, '');
  } finally {
    closeSync(fd);
  }
}
