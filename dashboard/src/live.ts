/**
 * The live link (Socket.IO) and what it knows: the latest frame per station, when each frame
 * arrived, and whether the link is up. "No stale value shown as live": a value counts as live only
 * while the link is up and its station's last message is younger than STALE_AFTER_MS. Staleness
 * is judged by this browser's clock at arrival, so a tablet whose clock is off does not matter.
 *
 * The server sends a view of each station with only the fields that changed (id and sample time
 * always present; the first message after a (re)subscription is complete): merged here with the
 * same frame-diff module every hop uses, then turned back into a station (gateway/ipc/views.ts).
 * Those two modules are plain functions; the protocol's types come in type-only. Alarms come
 * with the frames (each station's `alarms`); the separate `alarm` events are not subscribed to.
 */
import { io, type Socket } from 'socket.io-client';
import { mergeFrame, type FrameDiff } from '../../gateway/ipc/frame-diff.js';
import { liveFrameOf, type ViewFields } from '../../gateway/ipc/views.js';
import type { CentreStatus, LiveFrame, SessionMessage, SubscribeMessage } from './api.js';

/** Every station sends at least once a second (a keepalive when its view did not change). */
export const STALE_AFTER_MS = 2000;
const RECHECK_MS = 500;
const RECONNECT_AFTER_SERVER_CLOSE_MS = 1000;

export type LinkState = 'connecting' | 'up' | 'down';
export type Subscription = SubscribeMessage;

export class Live {
  readonly frames = new Map<string, LiveFrame>();
  /** The merged views as they came, before liveFrameOf(). */
  private readonly views = new Map<string, ViewFields>();
  private readonly receivedAt = new Map<string, number>();
  link: LinkState = 'connecting';
  /** The centre's broker and gateways, for a client subscribed {centre: true} in a centre. */
  centre: CentreStatus | null = null;
  private socket: Socket | null = null;
  private timer: number | undefined;
  private readonly listeners = new Set<() => void>();
  private readonly sessionListeners = new Set<(s: SessionMessage) => void>();
  private subs: Subscription[];

  constructor(subs: Subscription[]) {
    this.subs = subs;
  }

  start(): void {
    const socket = io({ transports: ['websocket'], reconnectionDelay: 500, reconnectionDelayMax: 2000 });
    this.socket = socket;
    socket.on('connect', () => {
      this.link = 'up';
      for (const s of this.subs) socket.emit('subscribe', s);
      this.changed();
    });
    socket.on('disconnect', (reason) => {
      this.link = 'down';
      this.changed();
      // A web process that shuts down (restart, update) disconnects its clients itself, and
      // Socket.IO does not retry after a server-side disconnect: keep trying, as for a lost link.
      if (reason === 'io server disconnect')
        window.setTimeout(() => socket.connect(), RECONNECT_AFTER_SERVER_CLOSE_MS);
    });
    socket.on('connect_error', () => {
      this.link = 'down';
      this.changed();
    });
    socket.on('station', (diff: FrameDiff) => {
      const view = mergeFrame<ViewFields>(this.views.get(diff.id), diff);
      this.views.set(diff.id, view);
      this.frames.set(diff.id, liveFrameOf(view));
      this.receivedAt.set(diff.id, performance.now());
      this.changed();
    });
    socket.on('centre', (c: CentreStatus) => {
      this.centre = c;
      this.changed();
    });
    socket.on('session', (m: SessionMessage) => {
      for (const l of this.sessionListeners) l(m);
    });
    // Re-render while nothing arrives, so a value turns grey when it goes stale.
    this.timer = window.setInterval(() => this.changed(), RECHECK_MS);
  }

  stop(): void {
    window.clearInterval(this.timer);
    this.socket?.close();
    this.socket = null;
  }

  /** Follows another set of stations (the support chart's station picker). */
  resubscribe(subs: Subscription[]): void {
    const s = this.socket;
    if (s?.connected) {
      for (const old of this.subs)
        if (!subs.some((n) => JSON.stringify(n) === JSON.stringify(old))) s.emit('unsubscribe', old);
      for (const n of subs) s.emit('subscribe', n);
    }
    this.subs = subs;
  }

  isLive(id: string): boolean {
    const at = this.receivedAt.get(id);
    return this.link === 'up' && at !== undefined && performance.now() - at < STALE_AFTER_MS;
  }

  /** Stations in the controller's order (by id: bay-1, bay-2, …). */
  stations(): LiveFrame[] {
    return [...this.frames.values()].sort((a, b) => a.id.localeCompare(b.id, undefined, { numeric: true }));
  }

  onChange(l: () => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  onSession(l: (s: SessionMessage) => void): () => void {
    this.sessionListeners.add(l);
    return () => this.sessionListeners.delete(l);
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }
}
