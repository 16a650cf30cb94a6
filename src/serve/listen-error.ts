import { createServer } from 'node:net';
import { WardenError, invalid } from '../core/errors.js';

/** Why the API could not listen on `bind`:`port`, in one line saying what to change. */
export function listenError(err: NodeJS.ErrnoException, port: number, bind: string): Error {
  switch (err.code) {
    case 'EADDRINUSE':
      return new WardenError(
        'setup',
        `port ${port} on ${bind} is in use; pick another with --port`,
      );
    case 'EACCES':
      return new WardenError(
        'setup',
        `port ${port} on ${bind} needs privileges this process does not have; pick a port from 1024 with --port`,
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EADDRNOTAVAIL':
      return invalid(
        `--bind: cannot listen on '${bind}' (${err.code === 'EADDRNOTAVAIL' ? 'not an address of this machine' : 'no such host'}); give an address of this machine, like 127.0.0.1 (or serve.bind in config.json)`,
      );
    default:
      return err;
  }
}

/**
 * Listens on `bind` at a port the system picks, then closes: an address that is not this
 * machine's is refused here, before `serve` writes anything (the port itself is taken later).
 */
export async function checkBind(bind: string): Promise<void> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(listenError(err, 0, bind)));
    server.listen(0, bind, () => server.close(() => resolve()));
  });
}
