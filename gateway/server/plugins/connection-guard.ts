/**
 * Who may hold a live (Socket.IO) connection, and how many: a small piece the live hub installs
 * on its `Server` with `guard.install(io)`.
 *
 * - Before the handshake (engine.io's allowRequest): the Host must be one the gateway answers to
 *   and an Origin, when the browser sends one, must be this host (a cross-site page may open a
 *   WebSocket; CORS does not stop it), the same rules as request-guard.ts. Transport connections
 *   in all are capped at max(1024, 8 × total): a backstop against bare handshakes piling up, set
 *   high because its refusal can only be an HTTP 403 that a Socket.IO client reports as a bare
 *   "websocket error"; a transport that has not joined within CONNECT_TIMEOUT_MS is closed.
 * - When a client joins (a Socket.IO middleware): at most `perAddress` connections from one
 *   address and `total` in all. A refused client gets `connect_error` with a message that says
 *   which cap it met, and its transport is closed.
 *
 * Counting in the middleware is synchronous, so simultaneous joins cannot all slip under a cap.
 * Each follower costs the web process CPU on every tick (docs/benchmarks.md, "live followers").
 */
import type { IncomingMessage } from 'node:http';
import type { Server, Socket } from 'socket.io';
import { type AllowedHosts, crossSiteReason } from './request-guard.js';

/** A transport must join (and pass the caps below) within this long, else it is closed. */
export const CONNECT_TIMEOUT_MS = 10_000;

export interface ConnectionLimits {
  perAddress: number;
  total: number;
}

export class ConnectionGuard {
  private readonly perAddress = new Map<string, number>();
  private total = 0;
  /** Joins refused since start, for tests and the support report. */
  refused = 0;

  constructor(
    private readonly limits: ConnectionLimits,
    private readonly hosts: AllowedHosts,
  ) {}

  install(io: Server): void {
    io.connectTimeout(CONNECT_TIMEOUT_MS);
    io.engine.opts.allowRequest = (req, callback) => {
      const why = this.handshakeRefusal(req, io.engine.clientsCount);
      callback(why ?? null, why === undefined);
    };
    io.use((socket, next) => {
      const why = this.join(socket);
      if (why === undefined) return next();
      this.refused++;
      next(new Error(why));
      // The refusal is written first (engine.io flushes before it closes).
      process.nextTick(() => socket.conn.close());
    });
  }

  connections(): { total: number; addresses: number } {
    return { total: this.total, addresses: this.perAddress.size };
  }

  private handshakeRefusal(req: IncomingMessage, transports: number): string | undefined {
    if (!this.hosts.has(req.headers.host)) return 'this gateway does not answer to that host name';
    const cross = crossSiteReason(req.headers);
    if (cross !== undefined) return cross;
    if (transports >= Math.max(1024, 8 * this.limits.total)) {
      return `the gateway has too many live connections (${this.limits.total} at most); try again later`;
    }
    return undefined;
  }

  private join(socket: Socket): string | undefined {
    const from = socket.handshake.address;
    const mine = this.perAddress.get(from) ?? 0;
    if (mine >= this.limits.perAddress) {
      return `too many live connections from ${from} (${this.limits.perAddress} at most); close another tab or page`;
    }
    if (this.total >= this.limits.total) {
      return `the gateway has too many live connections (${this.limits.total} at most); try again later`;
    }
    this.perAddress.set(from, mine + 1);
    this.total++;
    socket.once('disconnect', () => {
      this.total--;
      const n = (this.perAddress.get(from) ?? 1) - 1;
      if (n <= 0) this.perAddress.delete(from);
      else this.perAddress.set(from, n);
    });
    return undefined;
  }
}
