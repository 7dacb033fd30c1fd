import { createServer } from 'node:net';

/**
 * A TCP port on 127.0.0.1 free right now (bound, read, released). Used where a process must be
 * dialled before it can say which port it got: start-up is timed from spawn to health SERVING.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
