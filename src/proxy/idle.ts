import type { ClientRequest } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

/**
 * Gives `upstream` up (destroys it with `no answer for N s`) once it has sent nothing for
 * `idleMs`, for as long as it is open. Node's own request timeout fires once only, and it fires
 * before the loop reads an answer that came while `serve` was held up (stopped, paused in a
 * debugger) past the idle time and waits in the socket. So the idle time is kept here: each
 * time it is up, the decision waits for the loop's next read (`setImmediate`, after the poll),
 * and bytes read meanwhile start it again.
 */
export function giveUpWhenIdle(upstream: ClientRequest, idleMs: number): void {
  let heardAt = performance.now();
  const heard = (): void => {
    heardAt = performance.now();
  };
  let socket: Socket | null = null;
  let timer: NodeJS.Timeout | null = null;
  const arm = (ms: number): void => {
    timer = setTimeout(() => setImmediate(check), ms);
  };
  const check = (): void => {
    timer = null;
    if (upstream.destroyed) return;
    const quiet = performance.now() - heardAt;
    if (quiet < idleMs) arm(idleMs - quiet);
    else upstream.destroy(new Error(`no answer for ${idleMs / 1000} s`));
  };
  upstream.on('socket', (s) => {
    socket = s;
    heard();
    s.on('data', heard);
  });
  upstream.once('close', () => {
    if (timer !== null) clearTimeout(timer);
    // A kept-alive socket goes back to the agent's pool: it is no longer this request's.
    socket?.off('data', heard);
  });
  arm(idleMs);
}
