/**
 * Live telemetry over Socket.IO, attached to Fastify's own HTTP server (no fastify-socket.io: it
 * does not support fastify 5; testing-real-components.md §2).
 *
 * A client emits `subscribe` with {overview: true} or {stationId} (and `unsubscribe` likewise).
 * It receives `station` messages: a view of the station (gateway/ipc/views.ts) holding only the
 * fields that changed since the last message it got for that station (gateway/ipc/frame-diff.ts:
 * id and the sample time always present; the first one complete). A station it follows comes as
 * the `station` view with every frame (FRAME_RATE_HZ); the others, under overview, as the
 * `overview` view with every fourth frame (OVERVIEW_RATE_HZ), and a station whose view did not
 * change still sends its id and sample time every KEEPALIVE_MS. `session` messages go to the
 * clients watching what they concern: overview subscribers get all of them, a station's followers
 * those of their station. `alarm` messages go to clients that subscribed {alarms: true}: every
 * frame already carries its station's alarms, which is what the dashboard shows, and under a storm
 * of alarms the events were most of a wall tablet's bytes (docs/benchmarks.md).
 *
 * Push on arrival: a frame from the controller is sent in the same turn it arrives, to every
 * client whose transport is writable. Clients that got the same previous message get the same
 * diff, encoded once (one Socket.IO broadcast to them).
 *
 * Slow clients: a client whose transport is still busy with its previous write is skipped and
 * marked behind; when its transport becomes writable again it gets one message per station,
 * computed against what it last got, so it receives the latest state, never a backlog. Nothing
 * queues in this process for a client that stops reading; what the operating system's socket
 * buffers already hold (a few MB at most on Linux) still arrives first when it reads again
 * (live-slow-client.test.ts).
 *
 * The centre (issue 15): a client that subscribed {centre: true} also gets every station of the
 * other gateways of the centre as `station` messages, the `centre` view (views.ts centreViewOf)
 * under the id `<gatewayId>/<stationId>` (a local id never holds a `/`), through the same diff and
 * slow-client handling; and `centre` messages with the broker's and each gateway's state
 * (gateway/centre/schemas.ts CentreStatus). The centre plugin feeds both (plugins/centre.ts).
 *
 * Connections: onConnection() is the one place a client is admitted; the caps per address and in
 * total (and the Host/Origin check of the handshake) are connection-guard.ts, installed on the
 * Server before any client reaches onConnection().
 */
import { Server, type Socket } from 'socket.io';
import { changed, diffFrame, encodeFrame, type EncodedFrame } from '../../ipc/frame-diff.js';
import { FRAME_RATE_HZ, KEEPALIVE_MS, OVERVIEW_RATE_HZ } from '../../ipc/rate.js';
import { VIEW_HEADER_KEYS, viewOf, type ViewFields, type ViewKind } from '../../ipc/views.js';
import type { CentreStatus } from '../../centre/schemas.js';
import type { AlarmInfo, AlarmMessage, SessionMessage, StationFrame } from '../../protocol.js';
import { ConnectionGuard } from './connection-guard.js';
import type { SessionChange } from './controller-link.js';
import { shared } from './shared.js';

export { OVERVIEW_RATE_HZ };
/** Socket.IO rooms: overview subscribers, and each station's followers. */
const OVERVIEW_ROOM = 'overview';
const ALARMS_ROOM = 'alarms';
const CENTRE_ROOM = 'centre';
const stationRoom = (id: string) => `station:${id}`;
export const STATION_RATE_HZ = FRAME_RATE_HZ;
export type { SessionMessage };
const OVERVIEW_EVERY_FRAMES = FRAME_RATE_HZ / OVERVIEW_RATE_HZ;
/** A client may follow this many stations one by one; a board has a handful. */
const MAX_STATION_SUBSCRIPTIONS = 32;

interface Follower {
  readonly socket: Socket;
  overview: boolean;
  /** Subscribed {centre: true}: gets the other gateways' stations too. */
  centre: boolean;
  readonly stations: Set<string>;
  /** Per station, the view it last got (shared, immutable); diffs are taken against it. */
  readonly sent: Map<string, EncodedFrame>;
  /** Per station, which view that was. */
  readonly sentKind: Map<string, ViewKind>;
  /** Skipped while its transport was busy: owed the latest of every station it follows. */
  behind: boolean;
}

/** The latest view of one kind of one station, and when it was last published. */
interface Published {
  encoded: EncodedFrame;
  atMs: number;
}

interface StationState {
  /** Another gateway's station, from the broker. */
  readonly remote: boolean;
  frames: number;
  readonly views: Partial<Record<ViewKind, Published>>;
}

/** engine.io's transport is busy until its previous packet has been flushed to the network. */
function isWritable(socket: Socket): boolean {
  return socket.conn.transport.writable;
}

export class LiveHub {
  private readonly followers = new Map<string, Follower>();
  private readonly stations = new Map<string, StationState>();
  private centreStatus: CentreStatus | null = null;
  private started = false;

  constructor(
    readonly io: Server,
    private readonly now: () => number = () => performance.now(),
  ) {}

  start(): void {
    if (this.started) return;
    this.started = true;
    this.io.on('connection', (socket) => this.onConnection(socket));
  }

  stop(): void {
    this.started = false;
    this.followers.clear();
    this.stations.clear();
  }

  /** A frame from the controller: pushed now to every client that can take it. */
  onFrame(frame: StationFrame): void {
    if (!this.started) return;
    let st = this.stations.get(frame.id);
    if (st === undefined) {
      st = { remote: false, frames: 0, views: {} };
      this.stations.set(frame.id, st);
    }
    const first = st.frames === 0;
    st.frames++;
    this.publish(frame.id, st, 'station', true, () => viewOf(frame, 'station'));
    this.publish(frame.id, st, 'overview', first || st.frames % OVERVIEW_EVERY_FRAMES === 0, () =>
      viewOf(frame, 'overview'),
    );
  }

  /**
   * Another gateway's station (its `centre` view, id `<gatewayId>/<stationId>`): on arrival from
   * the broker, and again every KEEPALIVE_MS while its gateway and the broker are up, so a board
   * tells a quiet remote station from one nothing is heard of.
   */
  onCentreStation(view: ViewFields): void {
    if (!this.started) return;
    let st = this.stations.get(view.id);
    if (st === undefined) {
      st = { remote: true, frames: 0, views: {} };
      this.stations.set(view.id, st);
    }
    st.frames++;
    this.publish(view.id, st, 'centre', true, () => view);
  }

  /** The broker's and the gateways' state, to every centre subscriber. */
  onCentreStatus(status: CentreStatus): void {
    if (!this.started) return;
    this.centreStatus = status;
    this.io.to(CENTRE_ROOM).emit('centre', status);
  }

  onAlarm(change: 'raised' | 'cleared', alarm: AlarmInfo): void {
    const msg: AlarmMessage = { change, alarm };
    this.io.to(ALARMS_ROOM).emit('alarm', msg);
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
    this.io.to([OVERVIEW_ROOM, stationRoom(s.stationId)]).emit('session', msg);
  }

  /** Which view of a station a client gets: the fine one if it follows it, else the overview. */
  private kindFor(f: Follower, stationId: string, st: StationState | undefined): ViewKind | null {
    if (st?.remote === true) return f.centre ? 'centre' : null;
    if (f.stations.has(stationId)) return 'station';
    return f.overview ? 'overview' : null;
  }

  private publish(id: string, st: StationState, kind: ViewKind, due: boolean, view: () => ViewFields): void {
    if (!due) return;
    const now = this.now();
    const last = st.views[kind];
    const encoded = encodeFrame(view(), VIEW_HEADER_KEYS);
    const news = changed(last?.encoded, encoded);
    if (!news && last !== undefined && now - last.atMs < KEEPALIVE_MS) return;
    st.views[kind] = { encoded, atMs: now };
    // Clients that last got the same message get the same diff: group them, encode it once.
    const groups = new Map<EncodedFrame | undefined, Follower[]>();
    for (const f of this.followers.values()) {
      if (this.kindFor(f, id, st) !== kind) continue;
      if (!isWritable(f.socket)) {
        f.behind = true;
        continue;
      }
      const prev = f.sent.get(id);
      const group = groups.get(prev);
      if (group === undefined) groups.set(prev, [f]);
      else group.push(f);
    }
    for (const [prev, group] of groups) {
      const msg = diffFrame(prev, encoded, true);
      for (const f of group) {
        f.sent.set(id, encoded);
        f.sentKind.set(id, kind);
      }
      if (msg === null) continue;
      const [one] = group;
      if (group.length === 1 && one !== undefined) one.socket.emit('station', msg);
      else this.io.to(group.map((f) => f.socket.id)).emit('station', msg);
    }
  }

  /** A client's transport took its last write: send what it missed, one message per station. */
  private catchUp(f: Follower): void {
    if (!f.behind || !isWritable(f.socket)) return;
    f.behind = false;
    for (const [id, st] of this.stations) {
      const kind = this.kindFor(f, id, st);
      const latest = kind === null ? undefined : st.views[kind]?.encoded;
      if (latest === undefined || f.sent.get(id) === latest) continue;
      const msg = diffFrame(f.sent.get(id), latest, true);
      f.sent.set(id, latest);
      if (kind !== null) f.sentKind.set(id, kind);
      if (msg !== null) f.socket.emit('station', msg);
      if (!isWritable(f.socket)) {
        f.behind = true;
        return;
      }
    }
  }

  private onConnection(socket: Socket): void {
    const f: Follower = {
      socket,
      overview: false,
      centre: false,
      stations: new Set(),
      sent: new Map(),
      sentKind: new Map(),
      behind: false,
    };
    this.followers.set(socket.id, f);
    // 'ready' is the transport saying its previous write is done (websocket: the send callback;
    // polling: a new GET); engine.io flushes its own buffer on it first.
    const watch = (transport: Socket['conn']['transport']) => transport.on('ready', () => this.catchUp(f));
    watch(socket.conn.transport);
    socket.conn.on('upgrade', (transport: Socket['conn']['transport']) => watch(transport));
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
      return reply({
        ok: false,
        error: 'subscribe needs {overview: true}, {stationId: "…"}, {alarms: true} or {centre: true}',
      });
    }
    const m = msg as Record<string, unknown>;
    if (m.centre === true) {
      f.centre = on;
      if (on) {
        void f.socket.join(CENTRE_ROOM);
        if (this.centreStatus !== null) f.socket.emit('centre', this.centreStatus);
      } else void f.socket.leave(CENTRE_ROOM);
      this.restartViews(f);
      return reply({ ok: true });
    }
    if (m.alarms === true) {
      if (on) void f.socket.join(ALARMS_ROOM);
      else void f.socket.leave(ALARMS_ROOM);
      return reply({ ok: true });
    }
    if (m.overview === true) {
      f.overview = on;
      if (on) void f.socket.join(OVERVIEW_ROOM);
      else void f.socket.leave(OVERVIEW_ROOM);
      this.restartViews(f);
      return reply({ ok: true });
    }
    if (typeof m.stationId === 'string' && m.stationId.length > 0 && m.stationId.length <= 64) {
      if (on) {
        if (f.stations.size >= MAX_STATION_SUBSCRIPTIONS && !f.stations.has(m.stationId)) {
          return reply({ ok: false, error: `at most ${MAX_STATION_SUBSCRIPTIONS} stations per client` });
        }
        f.stations.add(m.stationId);
        void f.socket.join(stationRoom(m.stationId));
      } else {
        f.stations.delete(m.stationId);
        void f.socket.leave(stationRoom(m.stationId));
      }
      this.restartViews(f);
      return reply({ ok: true });
    }
    return reply({
      ok: false,
      error: 'subscribe needs {overview: true}, {stationId: "…"}, {alarms: true} or {centre: true}',
    });
  }

  /**
   * After a (un)subscription: a station whose view changed kind, or that is no longer followed,
   * starts again from a complete message; the client gets the current state at once rather than
   * with the next frame.
   */
  private restartViews(f: Follower): void {
    for (const id of [...f.sent.keys()]) {
      if (this.kindFor(f, id, this.stations.get(id)) === f.sentKind.get(id)) continue;
      f.sent.delete(id);
      f.sentKind.delete(id);
    }
    f.behind = true;
    this.catchUp(f);
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
