/**
 * The client side of the controller's Unix socket, used by the web process and by presso-ctl.
 *
 * It matches replies to requests by id, turns error replies into CommandError, reconnects with
 * back-off when the controller restarts (the web process must outlive controller restarts), and
 * rebuilds full station frames from the diffs the server sends, so listeners never see a partial
 * frame. Wire format and types: protocol.ts; the JSON-lines splitter both ends share: lines.ts.
 */
import { connect as netConnect, type Socket } from 'node:net';
import type { Logger } from '../drivers/io.js';
import { mergeFrame, type FrameDiff } from './frame-diff.js';
import { LineSplitter, MAX_LINE_BYTES } from './lines.js';
import {
  CommandError,
  PROTOCOL_VERSION,
  type CommandName,
  type Commands,
  type ErrorCode,
  type EventName,
  type Events,
  type RequestMessage,
  type StationFrame,
} from '../protocol.js';

export const DEFAULT_REQUEST_TIMEOUT_MS = 2000;
/** Reconnect back-off: starts short so a controller restart costs little, capped so a controller
 * that stays down is polled only every 2 s. */
export const RECONNECT_MIN_MS = 100;
export const RECONNECT_MAX_MS = 2000;

/** The controller could not be asked: not connected, connection lost, or no reply in time. */
export class ControllerLinkError extends Error {
  constructor(
    readonly code: 'unreachable' | 'disconnected' | 'timeout',
    message: string,
    cause?: Error,
  ) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'ControllerLinkError';
  }
}

/** What listeners receive: server events as sent, except frames, which arrive merged and full. */
export interface ClientEvents extends Omit<Events, 'frame'> {
  frame: StationFrame;
  connected: { socketPath: string };
  disconnected: { socketPath: string; reason: string };
}
export type ClientEventName = keyof ClientEvents;
type Listener<E extends ClientEventName> = (data: ClientEvents[E]) => void;

/** Checked by the compiler against protocol.ts, so a new event cannot be silently dropped. */
const SERVER_EVENTS: Record<EventName, true> = {
  frame: true,
  'session-started': true,
  'session-ended': true,
  'alarm-raised': true,
  'alarm-cleared': true,
  counters: true,
  'loop-late': true,
};

interface Pending {
  cmd: string;
  resolve: (result: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export interface ControllerClientOptions {
  /** Where listener exceptions and protocol violations are reported (default: console). */
  log?: Logger;
}

export interface ConnectOptions {
  /**
   * Keep trying until the controller answers (the web process, started alongside the
   * controller). Without it the first failed attempt rejects with code 'unreachable' and the
   * client gives up (presso-ctl, which should say so at once). Either way, once connected, a
   * dropped connection is re-established automatically until close().
   */
  retry?: boolean;
}

const consoleLog: Logger = {
  info: () => {},
  warn: (m) => console.warn(`[controller-client] ${m}`),
  error: (m) => console.error(`[controller-client] ${m}`),
};

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export class ControllerClient {
  private readonly log: Logger;
  private socketPath: string | null = null;
  private socket: Socket | null = null;
  private connected = false;
  private closed = false;
  private nextId = 1;
  private backoffMs = RECONNECT_MIN_MS;
  private reconnectTimer: NodeJS.Timeout | null = null;
  /** The caller of connect() until the first connection succeeds or is given up. */
  private firstConnect: { resolve: () => void; reject: (e: Error) => void; retry: boolean } | null = null;
  private splitter = new LineSplitter();
  private readonly pending = new Map<number, Pending>();
  private readonly stations = new Map<string, StationFrame>();
  private readonly listeners: { [E in ClientEventName]?: Set<Listener<E>> } = {};

  constructor(options: ControllerClientOptions = {}) {
    this.log = options.log ?? consoleLog;
  }

  get isConnected(): boolean {
    return this.connected;
  }

  /** Resolves once connected; see ConnectOptions for what happens when the controller is down. */
  connect(socketPath: string, options: ConnectOptions = {}): Promise<void> {
    if (this.socketPath !== null) throw new Error('ControllerClient.connect called twice');
    this.socketPath = socketPath;
    return new Promise<void>((resolve, reject) => {
      this.firstConnect = { resolve, reject, retry: options.retry === true };
      this.attempt();
    });
  }

  request<K extends CommandName>(
    cmd: K,
    args: Commands[K][0],
    timeoutMs: number = DEFAULT_REQUEST_TIMEOUT_MS,
  ): Promise<Commands[K][1]> {
    const socket = this.socket;
    if (!this.connected || socket === null) {
      return Promise.reject(
        new ControllerLinkError(
          'disconnected',
          `not connected to the controller at ${this.socketPath ?? '(no socket path)'}`,
        ),
      );
    }
    const id = this.nextId++;
    const message: RequestMessage = { v: PROTOCOL_VERSION, id, cmd, args };
    return new Promise<Commands[K][1]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new ControllerLinkError('timeout', `the controller did not answer "${cmd}" within ${timeoutMs} ms`),
        );
      }, timeoutMs);
      this.pending.set(id, {
        cmd,
        // The reply's shape is the controller's side of the protocol.ts contract.
        resolve: (result) => resolve(result as Commands[K][1]),
        reject,
        timer,
      });
      socket.write(`${JSON.stringify(message)}\n`);
    });
  }

  /** Subscribes to a server or connection event; returns the unsubscribe function. */
  on<E extends ClientEventName>(event: E, listener: Listener<E>): () => void {
    const set: Set<Listener<E>> = this.listeners[event] ?? new Set<Listener<E>>();
    // Indexed writes through a generic key do not type-check; the mapped type keeps it sound.
    (this.listeners as Record<E, Set<Listener<E>>>)[event] = set;
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  /** The latest full frame of every station the controller has reported since connecting. */
  frames(): StationFrame[] {
    return [...this.stations.values()];
  }

  /** Stops reconnecting, drops the connection and rejects pending requests. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.settleFirstConnect(new ControllerLinkError('disconnected', 'client closed before it connected'));
    const socket = this.socket;
    if (socket === null) return;
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.destroy();
    });
  }

  private attempt(): void {
    const path = this.socketPath;
    if (this.closed || path === null) return;
    const socket = netConnect(path);
    this.socket = socket;
    let opened = false;
    // 'close' always follows 'error'; the error only supplies the reason.
    let lastError: Error | null = null;
    socket.on('connect', () => {
      opened = true;
      this.connected = true;
      this.backoffMs = RECONNECT_MIN_MS;
      this.splitter = new LineSplitter();
      this.settleFirstConnect(null);
      this.emit('connected', { socketPath: path });
    });
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (e) => {
      lastError = e;
    });
    socket.on('close', () => {
      this.socket = null;
      if (opened) {
        this.connected = false;
        const reason = this.closed
          ? 'client closed'
          : `connection to the controller lost${lastError ? ` (${lastError.message})` : ''}`;
        this.dropState(reason);
        this.emit('disconnected', { socketPath: path, reason });
      } else if (this.firstConnect !== null && !this.firstConnect.retry) {
        this.closed = true;
        const why = lastError?.message ?? 'connection closed';
        this.settleFirstConnect(
          new ControllerLinkError(
            'unreachable',
            `cannot reach the controller at ${path}: ${why}`,
            lastError ?? undefined,
          ),
        );
        return;
      }
      this.scheduleReconnect();
    });
  }

  private settleFirstConnect(error: Error | null): void {
    const waiter = this.firstConnect;
    if (waiter === null) return;
    this.firstConnect = null;
    if (error === null) waiter.resolve();
    else waiter.reject(error);
  }

  private scheduleReconnect(): void {
    if (this.closed) return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, RECONNECT_MAX_MS);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.attempt();
    }, delay);
  }

  /** Pending requests cannot be answered on a new connection (ids are per connection), and the
   * frames describe a controller that may have restarted: both go. */
  private dropState(reason: string): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(new ControllerLinkError('disconnected', `"${p.cmd}" got no reply: ${reason}`));
    }
    this.stations.clear();
  }

  private onData(chunk: Buffer): void {
    const { lines, tooLong } = this.splitter.push(chunk);
    for (const line of lines) this.onLine(line);
    if (tooLong) {
      this.log.error(`the controller sent a line longer than ${MAX_LINE_BYTES} bytes; reconnecting`);
      this.socket?.destroy();
    }
  }

  private onLine(line: string): void {
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      this.log.warn(`ignoring a line from the controller that is not JSON: ${line.slice(0, 200)}`);
      return;
    }
    if (!isRecord(message)) return;
    if (typeof message.event === 'string') {
      this.onEvent(message.event, message.data);
      return;
    }
    if (typeof message.id !== 'number') return;
    const p = this.pending.get(message.id);
    if (p === undefined) {
      // A reply to a request that timed out, or an error about a line that had no usable id.
      if (message.ok === false && isRecord(message.error)) {
        this.log.warn(`controller error without a request: ${String(message.error.message)}`);
      }
      return;
    }
    this.pending.delete(message.id);
    clearTimeout(p.timer);
    if (message.ok === true) {
      p.resolve(message.result);
      return;
    }
    const error = isRecord(message.error) ? message.error : {};
    const code = typeof error.code === 'string' ? (error.code as ErrorCode) : 'internal';
    const text = typeof error.message === 'string' ? error.message : 'the controller gave no reason';
    p.reject(new CommandError(code, text));
  }

  private onEvent(event: string, data: unknown): void {
    if (!Object.hasOwn(SERVER_EVENTS, event)) return; // from a newer controller: not ours to guess
    const name = event as EventName;
    if (name === 'frame') {
      if (!isRecord(data) || typeof data.id !== 'string') return;
      // The server's first frame per station and connection is complete (server.ts), so the
      // merge is a full StationFrame from then on.
      const merged = mergeFrame<StationFrame>(this.stations.get(data.id), data as FrameDiff);
      this.stations.set(merged.id, merged);
      this.emit('frame', merged);
      return;
    }
    this.emit(name, data as ClientEvents[typeof name]);
  }

  private emit<E extends ClientEventName>(event: E, data: ClientEvents[E]): void {
    const set: Set<Listener<E>> | undefined = this.listeners[event];
    if (set === undefined) return;
    for (const listener of [...set]) {
      try {
        listener(data);
      } catch (e) {
        // One faulty listener must not stop the others or the reading of the socket.
        this.log.error(`"${event}" listener threw: ${(e as Error).stack ?? String(e)}`);
      }
    }
  }
}
