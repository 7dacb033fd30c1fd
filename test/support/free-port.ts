import { createServer } from 'node:net';

/**
 * A TCP port on 127.0.0.1 free right now (bound, read, released): for a server that cannot bind
 * port 0 itself and report back, or for an address where nothing listens. Another process can
 * take it before it is used; callers that bind it retry on EADDRINUSE.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('could not read the port of a listening socket'));
        return;
      }
      const { port } = address;
      server.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}
