import type { ClientRequest } from 'node:http';
import { whenQuiet } from '../os/quiet-socket.js';

/**
 * Gives `upstream` up (destroys it with `no answer for N s`) once it has sent nothing for
 * `idleMs`, for as long as it is open. Node's own request timeout fires once only, and it fires
 * before the loop reads an answer that came while `serve` was held up past the idle time; the
 * quiet is judged after that read (../os/quiet-socket.ts).
 */
export function giveUpWhenIdle(upstream: ClientRequest, idleMs: number): void {
  let stop = (): void => undefined;
  upstream.on('socket', (socket) => {
    stop = whenQuiet(socket, idleMs, () =>
      upstream.destroy(new Error(`no answer for ${idleMs / 1000} s`)),
    );
  });
  // A kept-alive socket goes back to the agent's pool: it is no longer this request's.
  upstream.once('close', () => stop());
}
