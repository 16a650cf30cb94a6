import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

/**
 * Calls `onQuiet` once `socket` has received nothing for `ms`, unless the returned call cancels
 * it first. Every byte read starts the time again. The time is judged after the loop's next
 * read (`setImmediate`, after the poll): after the process was held up (stopped, paused in a
 * debugger) past `ms`, the overdue timer runs before the loop reads what came meanwhile and
 * waits in the socket, which is no silence of the other side.
 */
export function whenQuiet(socket: Socket, ms: number, onQuiet: () => void): () => void {
  let heardAt = performance.now();
  const heard = (): void => {
    heardAt = performance.now();
  };
  let timer: NodeJS.Timeout | null = null;
  let cancelled = false;
  const cancel = (): void => {
    cancelled = true;
    if (timer !== null) clearTimeout(timer);
    socket.off('data', heard);
  };
  const check = (): void => {
    if (cancelled) return;
    const quiet = performance.now() - heardAt;
    if (quiet < ms) return arm(ms - quiet);
    cancel();
    onQuiet();
  };
  const arm = (wait: number): void => {
    timer = setTimeout(() => setImmediate(check), wait);
  };
  socket.on('data', heard);
  arm(ms);
  return cancel;
}
