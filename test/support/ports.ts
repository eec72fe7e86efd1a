import { createServer } from 'node:net';

/**
 * A TCP port on 127.0.0.1 that nothing listens on: bound once by us, then closed. For a server a
 * test starts by port number (pm2's apps) or for a peer that must be dead.
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
