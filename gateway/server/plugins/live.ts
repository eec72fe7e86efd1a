/**
 * Live telemetry over Socket.IO, attached to Fastify's own HTTP server (no fastify-socket.io: it
 * does not support fastify 5; testing-real-components.md §2).
 *
 * A client emits `subscribe` with {overview: true} or {stationId} (and `unsubscribe` likewise).
 * It receives `station` messages holding only the top-level fields that changed since the last
 * message it got for that station (id always present; the first one is complete): at most
 * STATION_RATE_HZ for a station it subscribed to, OVERVIEW_RATE_HZ for the others under overview.
 * `alarm` and `session` messages go to every client.
 *
 * Slow clients: a station message is only written when the client's transport has finished the
 * previous write; otherwise it waits for the next tick, and the diff is then computed against
 * what the client last got, so it receives the latest state, never a backlog. Nothing queues in this
 * process for a client that stops reading; what the operating system's socket buffers already
 * hold (a few MB at most on Linux) still arrives first when it reads again
 * (live-slow-client.test.ts).
 */
import { Server, type Socket } from 'socket.io';
import type { AlarmInfo, StationFrame } from '../../protocol.js';
import type { SessionRecord } from '../../store/types.js';
import { ConnectionGuard } from './connection-guard.js';
import type { SessionChange } from './controller-link.js';
import { shared } from './shared.js';

export const STATION_RATE_HZ = 20;
export const OVERVIEW_RATE_HZ = 5;
const TICK_MS = 1000 / STATION_RATE_HZ;
const OVERVIEW_EVERY_TICKS = STATION_RATE_HZ / OVERVIEW_RATE_HZ;
/** A client may follow this many stations one by one; a board has a handful. */
const MAX_STATION_SUBSCRIPTIONS = 32;

export interface SubscribeMessage {
  overview?: boolean;
  stationId?: string;
}

/** What goes out on `session`: enough to refresh a view, without the client's name. */
export interface SessionMessage {
  kind: SessionChange['kind'];
  id: string;
  stationId: string;
  programId: string;
  programVersion: number;
  status: SessionRecord['status'];
  reason?: string;
}

interface Follower {
  socket: Socket;
  overview: boolean;
  stations: Set<string>;
  /** Per station, the JSON of each top-level field as last sent. */
  sent: Map<string, Map<string, string>>;
}

function isWritable(socket: Socket): boolean {
  // engine.io's transport is busy until its previous packet has been flushed to the network.
  return socket.conn.transport.writable;
}

export class LiveHub {
  private readonly followers = new Map<string, Follower>();
  /** Latest frame per station, with its fields' JSON computed once per frame for all clients. */
  private readonly latest = new Map<string, { frame: StationFrame; fields?: Map<string, string> }>();
  private tickCount = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(readonly io: Server) {}

  start(): void {
    this.io.on('connection', (socket) => this.onConnection(socket));
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  onFrame(frame: StationFrame): void {
    this.latest.set(frame.id, { frame });
  }

  onAlarm(change: 'raised' | 'cleared', alarm: AlarmInfo): void {
    this.io.emit('alarm', { change, alarm });
  }

  onSession(change: SessionChange): void {
    const s = change.session;
    const msg: SessionMessage = {
      kind: change.kind,
      id: s.id,
      stationId: s.stationId,
      programId: s.programId,
      programVersion: s.programVersion,
      status: s.status,
      ...(s.reason !== undefined ? { reason: s.reason } : {}),
    };
    this.io.emit('session', msg);
  }

  private onConnection(socket: Socket): void {
    const f: Follower = { socket, overview: false, stations: new Set(), sent: new Map() };
    this.followers.set(socket.id, f);
    socket.on('disconnect', () => this.followers.delete(socket.id));
    socket.on('subscribe', (msg: unknown, ack?: unknown) => this.subscribe(f, msg, true, ack));
    socket.on('unsubscribe', (msg: unknown, ack?: unknown) => this.subscribe(f, msg, false, ack));
  }

  private subscribe(f: Follower, msg: unknown, on: boolean, ack: unknown): void {
    const reply = (r: { ok: boolean; error?: string }) => {
      if (typeof ack === 'function') (ack as (r: unknown) => void)(r);
      else if (!r.ok) f.socket.emit('error-message', r.error);
    };
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
      return reply({ ok: false, error: 'subscribe needs {overview: true} or {stationId: "…"}' });
    }
    const m = msg as Record<string, unknown>;
    if (m.overview === true) {
      f.overview = on;
      if (!on) this.forgetUnfollowed(f);
      return reply({ ok: true });
    }
    if (typeof m.stationId === 'string' && m.stationId.length > 0 && m.stationId.length <= 64) {
      if (on) {
        if (f.stations.size >= MAX_STATION_SUBSCRIPTIONS && !f.stations.has(m.stationId)) {
          return reply({ ok: false, error: `at most ${MAX_STATION_SUBSCRIPTIONS} stations per client` });
        }
        f.stations.add(m.stationId);
      } else {
        f.stations.delete(m.stationId);
        this.forgetUnfollowed(f);
      }
      return reply({ ok: true });
    }
    return reply({ ok: false, error: 'subscribe needs {overview: true} or {stationId: "…"}' });
  }

  /** A station no longer followed starts again from a complete message when followed again. */
  private forgetUnfollowed(f: Follower): void {
    if (f.overview) return;
    for (const id of [...f.sent.keys()]) if (!f.stations.has(id)) f.sent.delete(id);
  }

  private fieldsOf(id: string): Map<string, string> | undefined {
    const entry = this.latest.get(id);
    if (entry === undefined) return undefined;
    entry.fields ??= new Map(Object.entries(entry.frame).map(([k, v]) => [k, JSON.stringify(v)]));
    return entry.fields;
  }

  private tick(): void {
    this.tickCount++;
    const overviewDue = this.tickCount % OVERVIEW_EVERY_TICKS === 0;
    for (const f of this.followers.values()) {
      if (f.stations.size === 0 && !f.overview) continue;
      if (!isWritable(f.socket)) continue;
      for (const id of this.latest.keys()) {
        const followed = f.stations.has(id);
        if (!followed && !(f.overview && overviewDue)) continue;
        this.sendDiff(f, id);
      }
    }
  }

  private sendDiff(f: Follower, id: string): void {
    const fields = this.fieldsOf(id);
    if (fields === undefined) return;
    const sent = f.sent.get(id) ?? new Map<string, string>();
    const diff: Record<string, unknown> = {};
    let changed = false;
    for (const [k, json] of fields) {
      if (sent.get(k) === json) continue;
      diff[k] = JSON.parse(json) as unknown;
      sent.set(k, json);
      changed = true;
    }
    if (!changed) return;
    f.sent.set(id, sent);
    diff.id = id;
    f.socket.emit('station', diff);
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    live: LiveHub;
    connectionGuard: ConnectionGuard;
  }
}

export const livePlugin = shared('presso-live', async (app) => {
  // Same-origin only: the dashboard is served by this process.
  const io = new Server(app.server, { serveClient: false, cors: { origin: false } });
  const guard = new ConnectionGuard(
    { perAddress: app.config.maxSocketsPerAddress, total: app.config.maxSockets },
    app.allowedHosts,
  );
  guard.install(io);
  app.decorate('connectionGuard', guard);
  const hub = new LiveHub(io);
  hub.start();
  app.decorate('live', hub);
  const client = app.link.client;
  const offs = [
    client.on('frame', (f) => hub.onFrame(f)),
    client.on('alarm-raised', (a) => hub.onAlarm('raised', a)),
    client.on('alarm-cleared', (a) => hub.onAlarm('cleared', a)),
    app.link.onSessionChange((c) => hub.onSession(c)),
  ];
  // Without this, close() waits forever for connected WebSocket clients (reference §2).
  app.addHook('preClose', (done) => {
    io.local.disconnectSockets(true);
    done();
  });
  app.addHook('onClose', async () => {
    for (const off of offs) off();
    hub.stop();
    // io.close() also closes the HTTP server, which Fastify has closed already: its callback
    // would only report that, so it is not awaited.
    void io.close();
  });
});
