/**
 * A bounded ring of what the web process did recently, for the support page's log download:
 * every answered request (method, path, status, time taken, who), errors, and the controller
 * link going up and down. Nothing else (Fastify's own pino output goes to stdout for pm2/journald
 * and is not captured here). Bounded so a busy tablet cannot grow the Pi's memory.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { cut, routeWhat } from './audit.js';
import { shared } from './shared.js';

export const RECENT_LOG_LINES = 2000;
/** A line's length cap: the ring then holds at most ~0.6 MB whatever the requests looked like. */
export const RECENT_LOG_LINE_CHARS = 300;

/** The route's pattern (ids filled in), or the start of the path when no route matched. */
function pathOf(request: FastifyRequest): string {
  return (
    routeWhat(request)?.slice(request.method.length + 1) ??
    `${cut(request.url.split('?')[0] ?? '', 60)} (no route)`
  );
}

export class RecentLog {
  private readonly lines: string[] = [];

  constructor(
    private readonly capacity: number,
    private readonly now: () => number,
  ) {}

  add(line: string): void {
    this.lines.push(`${new Date(this.now()).toISOString()} ${cut(line, RECENT_LOG_LINE_CHARS)}`);
    if (this.lines.length > this.capacity) this.lines.splice(0, this.lines.length - this.capacity);
  }

  /** Oldest first. */
  all(): readonly string[] {
    return this.lines;
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    recentLog: RecentLog;
  }
}

export const recentLogPlugin = shared<{ now: () => number; capacity?: number }>(
  'presso-recent-log',
  async (app: FastifyInstance, opts) => {
    const log = new RecentLog(opts.capacity ?? RECENT_LOG_LINES, opts.now);
    app.decorate('recentLog', log);
    app.addHook('onResponse', async (request, reply) => {
      // Static files and the socket's polling would drown what support is looking for.
      if (request.url.startsWith('/assets/') || request.url.startsWith('/socket.io')) return;
      log.add(
        `${request.method} ${pathOf(request)} ${reply.statusCode} ${reply.elapsedTime.toFixed(0)}ms ` +
          `${request.actor?.who ?? 'anonymous'} ${request.ip}`,
      );
    });
    app.addHook('onError', async (request, _reply, error) => {
      log.add(`error on ${request.method} ${pathOf(request)}: ${error.message}`);
    });
    const offs = [
      app.link.client.on('connected', (e) => log.add(`controller link up (${e.socketPath})`)),
      app.link.client.on('disconnected', (e) => log.add(`controller link down: ${e.reason}`)),
      app.link.client.on('alarm-raised', (a) => log.add(`alarm raised ${a.code} ${a.stationId ?? 'board'}`)),
      app.link.client.on('alarm-cleared', (a) =>
        log.add(`alarm cleared ${a.code} ${a.stationId ?? 'board'}`),
      ),
    ];
    log.add('web process started');
    app.addHook('onClose', async () => {
      for (const off of offs) off();
    });
  },
);
