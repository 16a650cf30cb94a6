/*
 * The log cap's cut on real files (issue #11, defect 6): the start and the latest output are
 * kept, one marker line says how much was cut in all, and a writer appending meanwhile (a real
 * child process) keeps the file bounded with one marker only.
 */
import { spawn } from 'node:child_process';
import {
  appendFileSync,
  closeSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { capLog } from '../../src/supervisor/log-cap.js';
import { waitFor } from '../helpers/host.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempLog(): string {
  const dir = mkdtempSync(join(tmpdir(), 'warden-logcap-'));
  dirs.push(dir);
  return join(dir, 'output.log');
}

/** Numbered lines, `line 000001 .....`, 100 bytes each. */
function lines(from: number, count: number): string {
  let out = '';
  for (let i = from; i < from + count; i++)
    out += `line ${String(i).padStart(6, '0')} ${'.'.repeat(87)}\n`;
  return out;
}

const CAP = 256 * 1024;
const MARKERS =
  /\n\[warden: log truncated: (\d+) bytes cut here \(log_cap 256\.0 KiB\); the start and the latest output are kept\] *\n/g;

describe('capLog', () => {
  it('leaves a log within the cap alone', () => {
    const path = tempLog();
    writeFileSync(path, lines(0, 100));
    expect(capLog(path, CAP)).toBeNull();
    expect(readFileSync(path, 'utf8')).toBe(lines(0, 100));
    expect(capLog(join(path, '..', 'missing.log'), CAP)).toBeNull();
  });

  it('keeps the first and the latest quarter, marks the cut, and adds up later cuts', () => {
    const path = tempLog();
    const original = lines(0, 10_000); // 1,000,000 bytes
    writeFileSync(path, original);
    const first = capLog(path, CAP);
    const text = readFileSync(path, 'utf8');
    expect(first?.first).toBe(true);
    expect(first?.size).toBe(statSync(path).size);
    expect(first?.size).toBeLessThan(CAP / 2 + 200);
    expect(text.startsWith(original.slice(0, CAP / 4))).toBe(true);
    expect(text.endsWith(lines(9990, 10))).toBe(true);
    const [marker, ...more] = [...text.matchAll(MARKERS)];
    expect(more).toEqual([]);
    expect(Number(marker?.[1])).toBe(first?.cut);
    // What is kept after the marker starts on a whole line.
    expect(text.slice((marker?.index ?? 0) + (marker?.[0].length ?? 0))).toMatch(/^line \d{6} /);
    expect(original.length - (first?.cut ?? 0)).toBe(text.length - (marker?.[0].length ?? 0));

    appendFileSync(path, lines(10_000, 5000));
    const second = capLog(path, CAP);
    const again = readFileSync(path, 'utf8');
    expect(second?.first).toBe(false);
    const marks = [...again.matchAll(MARKERS)];
    expect(marks).toHaveLength(1);
    expect(Number(marks[0]?.[1])).toBe((first?.cut ?? 0) + (second?.cut ?? 0));
    expect(again.startsWith(original.slice(0, CAP / 4))).toBe(true);
    expect(again.endsWith(lines(14_990, 10))).toBe(true);
    expect(1_500_000 - (second?.total ?? 0)).toBe(again.length - (marks[0]?.[0].length ?? 0));
  });

  it('keeps a log bounded while a real process appends to it', async () => {
    const path = tempLog();
    // A writer like a worker: its own O_APPEND descriptor, printing as fast as it can. Started
    // itself, not under a shell: killing a shell left its `yes` writing to the deleted file
    // until the disk was full.
    const out = openSync(path, 'a');
    const writer = spawn('yes', ['output of a busy worker ..................................'], {
      stdio: ['ignore', out, 'ignore'],
    });
    closeSync(out);
    try {
      let biggest = 0;
      let cuts = 0;
      await waitFor('ten cuts', () => {
        const cut = capLog(path, CAP);
        if (cut) cuts++;
        biggest = Math.max(biggest, cut?.size ?? 0);
        return cuts >= 10;
      });
      expect(biggest).toBeLessThan(CAP);
    } finally {
      writer.kill('SIGKILL');
      await new Promise((r) => writer.once('exit', r));
    }
    const text = readFileSync(path, 'latin1');
    expect([...text.matchAll(MARKERS)]).toHaveLength(1);
    expect(text.startsWith('output of a busy worker')).toBe(true);
  });
});
