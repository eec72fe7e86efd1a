/**
 * One Modbus link (a TCP connection, or a serial port carrying an RS-485 bus) shared by every
 * device configured on it, with the transaction queue and reconnection the `modbus-tcp` and
 * `modbus-rtu` drivers have in common. The transports are tcp.ts and rtu.ts; failures are
 * classified in failure.ts; which devices share a link is the board's SharedLinks
 * (../shared-links.ts).
 *
 * Why a shared link: several I/O modules hang off one RS-485 bus (one serial port, one master),
 * and a TCP-to-RTU gateway puts several unit ids behind one host:port. Only one transaction may be
 * on the wire at a time, so every device on the link goes through one queue here.
 *
 * Why jsmodbus talks to a `ClientStream` and not to the socket itself: jsmodbus 5 clients keep
 * state that goes wrong across reconnects (a client built after its socket connected stays
 * "Offline" forever) and the RTU client's receive buffer wedges for good on a byte it cannot parse
 * (line noise, a half frame after a timeout): it never drops it, so every later answer times out.
 * Each connection (and, on RTU, each resynchronisation after a failed transaction) gets a fresh
 * ClientStream and fresh jsmodbus clients, so no state survives from a broken exchange.
 *
 * Time: jsmodbus's request timeouts and the sockets run in real time, so these drivers need the
 * RealClock; the clock is still used for every timestamp so health times match the rest of the
 * gateway. Reconnect attempts ride on the devices' `sample()`/`flush()` calls (`poll()`), which the
 * control loop makes every tick, so no timer outlives `close()` and a tick never waits for a
 * connect.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { ModbusRTUClient, ModbusTCPClient } from 'jsmodbus';
import type * as serialport from 'serialport';
import type { Clock } from '../../clock.js';
import type { Logger } from '../io.js';
import type { SharedLink } from '../shared-links.js';
import { classifyFailure, ModbusError } from './failure.js';

/** First wait before reconnecting after a failure; doubles per failed attempt. */
export const RECONNECT_MIN_MS = 100;
/** Longest wait between reconnect attempts. */
export const RECONNECT_MAX_MS = 5000;
/**
 * A TCP link on which this many transactions in a row got no answer from any unit is torn down and
 * reconnected: a half-open connection (peer rebooted, cable pulled) never recovers by itself.
 */
export const LINK_RESET_AFTER_SILENT = 5;
/** Slack on top of jsmodbus's own timeout before our guard gives up on a request. */
const GUARD_SLACK_MS = 100;

/** The subset of a jsmodbus client the drivers use, typed narrowly (jsmodbus's own types are generic-heavy). */
export interface ModbusClientPort {
  readCoils(start: number, count: number): Promise<BitsReply>;
  readDiscreteInputs(start: number, count: number): Promise<BitsReply>;
  readHoldingRegisters(start: number, count: number): Promise<RegistersReply>;
  readInputRegisters(start: number, count: number): Promise<RegistersReply>;
  writeMultipleCoils(start: number, values: boolean[]): Promise<unknown>;
  writeMultipleRegisters(start: number, values: number[]): Promise<unknown>;
}

export interface BitsReply {
  response: { body: { valuesAsArray: ArrayLike<boolean | number> } };
}
export interface RegistersReply {
  response: { body: { valuesAsArray: ArrayLike<number> } };
}

/**
 * The stand-in socket jsmodbus clients are built on. It forwards frames to the real transport
 * and emits what jsmodbus listens for ('connect' for TCP clients, 'open'/`isOpen` for RTU clients,
 * 'data', 'close').
 */
class ClientStream extends EventEmitter {
  isOpen = false;
  private readonly closedWaiters = new Set<() => void>();

  constructor(private readonly send: (frame: Buffer) => void) {
    super();
    // Every jsmodbus client (one per unit and timeout) adds three listeners; they all go with the stream.
    this.setMaxListeners(0);
  }

  /** Called by jsmodbus. */
  write(frame: Buffer, cb?: (err?: Error | null) => void): boolean {
    if (!this.isOpen) {
      cb?.(new Error('link closed'));
      return false;
    }
    this.send(frame);
    cb?.(null);
    return true;
  }

  start(): void {
    this.isOpen = true;
    this.announce();
  }

  /** Tells every client built on this stream that it is online (jsmodbus only listens for the event). */
  announce(): void {
    this.emit('connect');
    this.emit('open');
  }

  feed(data: Buffer): void {
    if (this.isOpen) this.emit('data', data);
  }

  stop(): void {
    if (!this.isOpen) return;
    this.isOpen = false;
    this.emit('close', false);
    for (const w of this.closedWaiters) w();
    this.closedWaiters.clear();
  }

  /** Calls `cb` once when the stream stops; returns a cancel. */
  onStop(cb: () => void): () => void {
    if (!this.isOpen) {
      cb();
      return () => undefined;
    }
    this.closedWaiters.add(cb);
    return () => this.closedWaiters.delete(cb);
  }
}

/** One open connection of a transport. */
export interface Connection {
  write(frame: Buffer): void;
  /** Closes; resolves once closed. Never rejects. */
  close(): Promise<void>;
}

export interface ConnectionHandlers {
  data(chunk: Buffer): void;
  /** The connection ended without us closing it. */
  lost(reason: string): void;
}

/** How to reach one link. A driver builds one of these from its config. */
export interface LinkSpec {
  /** Identity of the link: devices with the same key share it. */
  readonly key: string;
  /** Where, in words: "127.0.0.1:1502", "/dev/ttyUSB0". */
  readonly where: string;
  /** Settings every device on this link must agree on, in words ("19200 8E1"); compared on sharing. */
  readonly settings: string;
  readonly kind: 'tcp' | 'rtu';
  /** Quiet time the bus needs between frames (RTU: 3.5 character times), ms. */
  readonly frameGapMs: number;
  /** Time one byte spends on the wire (RTU), ms; 0 for TCP. Timeouts grow by the frames' wire time. */
  readonly byteMs: number;
  /** Opens a fresh connection; rejects with an error whose message says why in a few words. */
  connect(handlers: ConnectionHandlers): Promise<Connection>;
}

export type LinkEvent = { up: true } | { up: false; reason: string };

/** Where the link stands in its connect/reconnect cycle. */
type ConnectionPhase = 'idle' | 'connecting' | 'up' | 'down' | 'closed';

export class ModbusLink implements SharedLink {
  private state: ConnectionPhase = 'idle';
  private conn: Connection | undefined;
  private stream: ClientStream | undefined;
  /** jsmodbus clients on the current stream, per `unit/timeout`. */
  private clients = new Map<string, ModbusClientPort>();
  private queue: Promise<unknown> = Promise.resolve();
  private connecting: Promise<void> | undefined;
  private backoffMs = RECONNECT_MIN_MS;
  private nextAttemptAtMs = Number.NEGATIVE_INFINITY;
  private lastReason = 'not connected yet';
  /** `lastReason` without the retry schedule, for open() to report. */
  private lastWhy = 'not connected yet';
  private loggedWhy: string | undefined;
  private lastRxAtMs = Number.NEGATIVE_INFINITY;
  private silentInARow = 0;
  private readonly listeners = new Set<(e: LinkEvent) => void>();

  constructor(
    readonly spec: LinkSpec,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  get where(): string {
    return this.spec.where;
  }

  get settings(): string {
    return this.spec.settings;
  }

  get isUp(): boolean {
    return this.state === 'up';
  }

  /** Why the link is not up, e.g. "cannot connect (ECONNREFUSED); next attempt in 400 ms". */
  get reason(): string {
    return this.lastReason;
  }

  onChange(listener: (e: LinkEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Connects now if not up (skipping any back-off); rejects with the reason if that fails. */
  async connectNow(): Promise<void> {
    if (this.state === 'up') return;
    if (this.state === 'closed') throw new Error('link closed');
    await (this.connecting ?? this.attempt());
    if (!this.isUp) throw new Error(this.lastWhy);
  }

  /** Starts a background reconnect if the link is down and its back-off has run out. Never waits. */
  poll(): void {
    if ((this.state === 'down' || this.state === 'idle') && !this.connecting) {
      if (this.clock.now() >= this.nextAttemptAtMs) void this.attempt();
    }
  }

  /**
   * Runs one transaction for `unitId` when the link is free. Rejects with a ModbusError. `timeoutMs`
   * is the device's answer timeout; on RTU the link adds the time the request and the answer
   * (`frameBytes` together) spend on the wire: 250 registers take 260 ms at 9600 baud.
   */
  transact<T>(
    unitId: number,
    timeoutMs: number,
    frameBytes: number,
    op: (client: ModbusClientPort) => Promise<T>,
  ): Promise<T> {
    const limitMs = timeoutMs + Math.ceil(frameBytes * this.spec.byteMs);
    const run = () => this.run(unitId, limitMs, op);
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.lastReason = 'link closed';
    this.dropStream();
    const conn = this.conn;
    this.conn = undefined;
    if (conn) await conn.close();
    // An attempt still in flight closes its own connection when it sees state 'closed'.
    if (this.connecting) await this.connecting;
  }

  private async run<T>(
    unitId: number,
    limitMs: number,
    op: (client: ModbusClientPort) => Promise<T>,
  ): Promise<T> {
    if (!this.isUp || !this.stream) {
      throw new ModbusError({ kind: 'link-down', text: this.lastReason });
    }
    // RTU: the bus must stay quiet for 3.5 characters between frames or slaves merge them.
    const quietMs = this.lastRxAtMs + this.spec.frameGapMs - this.clock.now();
    if (quietMs > 0) await this.clock.sleep(quietMs);
    const stream = this.stream;
    if (!this.isUp || !stream?.isOpen) {
      throw new ModbusError({ kind: 'link-down', text: this.lastReason });
    }
    const client = this.clientFor(stream, unitId, limitMs);
    try {
      const value = await guard(op(client), stream, limitMs + GUARD_SLACK_MS, this.lastReasonFn);
      this.answered();
      return value;
    } catch (err) {
      const failure = classifyFailure(err);
      if (failure.kind === 'exception') this.answered();
      else if (failure.kind === 'silent') this.noAnswer(stream);
      throw new ModbusError(failure);
    }
  }

  private readonly lastReasonFn = (): string => this.lastReason;

  /** The unit answered (data or exception): the link itself works. */
  private answered(): void {
    this.silentInARow = 0;
    // Reset the back-off only once a connection has carried a transaction: a peer that accepts
    // and immediately drops connections must not be hammered at RECONNECT_MIN_MS.
    this.backoffMs = RECONNECT_MIN_MS;
  }

  private noAnswer(stream: ClientStream): void {
    this.silentInARow++;
    if (this.spec.kind === 'rtu') {
      // Throw away jsmodbus's receive buffer: a late or partial frame would wedge it (see top).
      if (stream === this.stream) this.resync();
      return;
    }
    if (this.silentInARow >= LINK_RESET_AFTER_SILENT && this.conn) {
      const conn = this.conn;
      this.connectionLost(conn, `no answer from any unit to ${this.silentInARow} requests in a row`);
      void conn.close();
    }
  }

  private clientFor(stream: ClientStream, unitId: number, timeoutMs: number): ModbusClientPort {
    const key = `${unitId}/${timeoutMs}`;
    let client = this.clients.get(key);
    if (!client) {
      // jsmodbus types its clients for net.Socket / SerialPort; ClientStream provides the part of
      // those it uses (write, isOpen and the events), hence the casts.
      client =
        this.spec.kind === 'tcp'
          ? new ModbusTCPClient(stream as unknown as Socket, unitId, timeoutMs)
          : new ModbusRTUClient(stream as unknown as serialport.SerialPort, unitId, timeoutMs);
      this.clients.set(key, client);
      // A client built after the stream started has missed 'connect': tell it (the others ignore a repeat).
      stream.announce();
    }
    return client;
  }

  private newStream(conn: Connection): ClientStream {
    const stream = new ClientStream((frame) => conn.write(frame));
    this.stream = stream;
    this.clients = new Map();
    stream.start();
    return stream;
  }

  private resync(): void {
    const conn = this.conn;
    this.dropStream();
    if (conn && this.state === 'up') this.newStream(conn);
  }

  private dropStream(): void {
    const stream = this.stream;
    this.stream = undefined;
    this.clients = new Map();
    stream?.stop();
  }

  private attempt(): Promise<void> {
    this.state = 'connecting';
    const p = this.connectOnce().finally(() => {
      this.connecting = undefined;
    });
    this.connecting = p;
    return p;
  }

  private async connectOnce(): Promise<void> {
    let conn: Connection | undefined;
    try {
      conn = await this.spec.connect({
        data: (chunk) => {
          if (conn && conn === this.conn) {
            this.lastRxAtMs = this.clock.now();
            this.stream?.feed(chunk);
          }
        },
        lost: (reason) => {
          if (conn) this.connectionLost(conn, reason);
        },
      });
    } catch (err) {
      if (this.state === 'closed') return;
      const why = err instanceof Error ? err.message : String(err);
      this.down(`cannot ${this.spec.kind === 'tcp' ? 'connect' : 'open the port'} (${why})`, why);
      return;
    }
    if (this.state !== 'connecting') {
      // close() ran while we were connecting.
      await conn.close();
      return;
    }
    this.conn = conn;
    this.state = 'up';
    this.silentInARow = 0;
    this.lastReason = 'connected';
    this.loggedWhy = undefined;
    this.newStream(conn);
    this.log.info(`modbus: link to ${this.where} is up`);
    this.emit({ up: true });
  }

  private connectionLost(conn: Connection, reason: string): void {
    if (conn !== this.conn || this.state !== 'up') return;
    this.conn = undefined;
    this.dropStream();
    this.down(`link lost (${reason})`);
  }

  private down(why: string, short = why): void {
    const wait = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, RECONNECT_MAX_MS);
    this.nextAttemptAtMs = this.clock.now() + wait;
    this.state = 'down';
    // One log line per new reason, not one per attempt: an outage of hours at one attempt per
    // RECONNECT_MAX_MS would otherwise fill the log. Health carries the live retry schedule.
    if (why !== this.loggedWhy) this.log.warn(`modbus: ${this.where}: ${why}; retrying with back-off`);
    this.loggedWhy = why;
    this.lastWhy = short;
    this.lastReason = `${why}; next attempt in ${wait} ms`;
    this.emit({ up: false, reason: this.lastReason });
  }

  private emit(e: LinkEvent): void {
    for (const l of this.listeners) l(e);
  }
}

/**
 * Resolves or rejects like `p`, but rejects with `link-down` the moment `stream` stops and with
 * `silent` after `ms` whatever jsmodbus does: a tick must never wait on a request forever.
 */
function guard<T>(p: Promise<T>, stream: ClientStream, ms: number, reason: () => string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      cancel();
      reject(new ModbusError({ kind: 'silent', text: 'timeout' }));
    }, ms);
    const cancel = stream.onStop(() => {
      clearTimeout(timer);
      reject(new ModbusError({ kind: 'link-down', text: reason() }));
    });
    p.then(
      (v) => {
        clearTimeout(timer);
        cancel();
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        cancel();
        reject(e instanceof Error ? e : new ModbusError(classifyFailure(e)));
      },
    );
  });
}
