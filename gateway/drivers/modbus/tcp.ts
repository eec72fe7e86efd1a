/** The Modbus TCP transport: one socket to host:port, shared by the unit ids behind it. */
import { Socket } from 'node:net';
import type { Connection, ConnectionHandlers, LinkSpec } from './link.js';

/** Longest a TCP connect may take before it counts as failed (a LAN answers in well under 10 ms). */
export const CONNECT_TIMEOUT_MS = 1000;
/**
 * TCP keep-alive idle time before the first probe. While the control loop polls, request timeouts
 * notice a vanished peer first; keep-alive makes the kernel drop such a connection eventually even
 * when nothing is polled (the interval and probe count stay the kernel's; Node cannot set them).
 */
const TCP_KEEPALIVE_MS = 1000;

export function tcpLinkSpec(host: string, port: number): LinkSpec {
  const where = `${host}:${port}`;
  return {
    key: `tcp:${where}`,
    where,
    settings: where,
    kind: 'tcp',
    frameGapMs: 0,
    byteMs: 0,
    connect: (handlers) => connectTcp(host, port, handlers),
  };
}

function connectTcp(host: string, port: number, handlers: ConnectionHandlers): Promise<Connection> {
  return new Promise<Connection>((resolve, reject) => {
    const socket = new Socket();
    let connected = false;
    let lastError = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${CONNECT_TIMEOUT_MS} ms`));
    }, CONNECT_TIMEOUT_MS);
    // Modbus frames are tiny request/answer pairs; Nagle would hold a request back for an ACK.
    socket.setNoDelay(true);
    socket.on('error', (err: NodeJS.ErrnoException) => {
      lastError = err.code ?? err.message;
      if (!connected) {
        clearTimeout(timer);
        socket.destroy();
        reject(new Error(lastError));
      }
    });
    socket.on('data', (chunk: Buffer) => handlers.data(chunk));
    socket.on('close', () => {
      if (connected) handlers.lost(lastError || 'closed by the peer');
    });
    socket.connect({ host, port }, () => {
      clearTimeout(timer);
      connected = true;
      socket.setKeepAlive(true, TCP_KEEPALIVE_MS);
      resolve({
        write: (frame) => {
          socket.write(frame);
        },
        close: () =>
          new Promise<void>((done) => {
            connected = false;
            if (socket.destroyed) return done();
            socket.once('close', () => done());
            socket.destroy();
          }),
      });
    });
  });
}
