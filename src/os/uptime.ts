import { readFileSync } from 'node:fs';

/**
 * Milliseconds since boot on the boot-time clock (`/proc/uptime`, 10 ms steps), which counts
 * the time the machine slept, as the monotonic clock does not. Throws where it cannot be read.
 */
export function uptimeMs(): number {
  const [up] = readFileSync('/proc/uptime', 'utf8').split(' ');
  const ms = Math.round(Number(up) * 1000);
  if (!Number.isFinite(ms)) throw new Error(`/proc/uptime holds no number: ${String(up)}`);
  return ms;
}
