/**
 * One Modbus link (a TCP connection, or a serial port carrying an RS-485 bus) shared by every
 * device configured on it, with the transaction queue, reconnection and error classification the
 * `modbus-tcp` and `modbus-rtu` drivers have in common.
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
import { Socket } from 'node:net';
import { ModbusRTUClient, ModbusTCPClient } from 'jsmodbus';
import type * as serialport from 'serialport';
import type { Clock } from '../clock.js';
import type { Logger } from './io.js';

/** First wait before reconnecting after a failure; doubles per failed attempt. */
export const RECONNECT_MIN_MS = 100;
/** Longest wait between reconnect attempts. */
export const RECONNECT_MAX_MS = 5000;
/** Longest a TCP connect may take before it counts as failed (a LAN answers in well under 10 ms). */
export const CONNECT_TIMEOUT_MS = 1000;
/**
 * TCP keep-alive idle time before the first probe. While the control loop polls, request timeouts
 * notice a vanished peer first; keep-alive makes the kernel drop such a connection eventually even
 * when nothing is polled (the interval and probe count stay the kernel's; Node cannot set them).
 */
const TCP_KEEPALIVE_MS = 1000;
/**
 * A TCP link on which this many transactions in a row got no answer from any unit is torn down and
 * reconnected: a half-open connection (peer rebooted, cable pulled) never recovers by itself.
 */
export const LINK_RESET_AFTER_SILENT = 5;
/** Slack on top of jsmodbus's own timeout before our guard gives up on a request. */
const GUARD_SLACK_MS = 100;

/** Protocol limits (Modbus application protocol spec v1.1b3, section 6). */
export const MAX_READ_BITS = 2000;
export const MAX_READ_REGISTERS = 125;
export const MAX_WRITE_COILS = 1968;
export const MAX_WRITE_REGISTERS = 123;

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

/** What went wrong with one transaction, in the terms the drivers act on. */
export type ModbusFailure =
  /** The unit answered with an exception: it is alive, the request was wrong (e.g. code 2, illegal address). */
  | { kind: 'exception'; code: number; text: string }
  /** Nothing (or nothing usable) came back in time: the unit may be gone. */
  | { kind: 'silent'; text: string }
  /** The link is down; the transaction was not sent or was cut off. */
  | { kind: 'link-down'; text: string };

export class ModbusError extends Error {
  constructor(readonly failure: ModbusFailure) {
    super(failure.text);
    this.name = 'ModbusError';
  }
}

/** Standard exception codes (spec section 7), worded for support staff. */
const EXCEPTION_TEXT: Readonly<Record<number, string>> = {
  1: 'illegal function',
  2: 'illegal data address',
  3: 'illegal data value',
  4: 'slave device failure',
  5: 'acknowledge (busy with a long operation)',
  6: 'slave device busy',
  8: 'memory parity error',
  10: 'gateway path unavailable',
  11: 'gateway target device failed to respond',
};

function field(x: unknown, key: string): unknown {
  return typeof x === 'object' && x !== null ? (x as Record<string, unknown>)[key] : undefined;
}

/** Turns whatever jsmodbus rejected with (a UserRequestError, or an Error) into a ModbusFailure. */
export function classifyFailure(err: unknown): ModbusFailure {
  if (err instanceof ModbusError) return err.failure;
  const code = field(err, 'err');
  if (code === 'ModbusException') {
    const exc = field(field(field(err, 'response'), 'body'), 'code');
    const n = typeof exc === 'number' ? exc : -1;
    return {
      kind: 'exception',
      code: n,
      text: `${EXCEPTION_TEXT[n] ?? 'unknown exception'} (exception ${n})`,
    };
  }
  if (code === 'Timeout') return { kind: 'silent', text: 'timeout' };
  if (code === 'Offline' || code === 'ManuallyCleared') return { kind: 'link-down', text: 'link closed' };
  if (code === 'crcMismatch') return { kind: 'silent', text: 'answer failed its CRC check' };
  if (code === 'OutOfSync' || code === 'Protocol')
    return { kind: 'silent', text: 'answer did not match the request' };
  const message = err instanceof Error ? err.message : String(err);
  return { kind: 'silent', text: message };
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
interface Connection {
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

type ConnectionPhase = 'idle' | 'connecting' | 'up' | 'down' | 'closed';

export class ModbusLink {
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
  users = 0;

  constructor(
    readonly spec: LinkSpec,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  get where(): string {
    return this.spec.where;
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

/* ------------------------------------------------------------------------------------------------ */
/* Transports                                                                                        */

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

export interface SerialSettings {
  path: string;
  baudRate: number;
  parity: 'none' | 'even' | 'odd';
  dataBits: 7 | 8;
  stopBits: 1 | 2;
}

/** Bits on the wire per character: start + data + parity + stop. */
function bitsPerChar(s: SerialSettings): number {
  return 1 + s.dataBits + (s.parity === 'none' ? 0 : 1) + s.stopBits;
}

export function rtuLinkSpec(s: SerialSettings): LinkSpec {
  const charMs = (bitsPerChar(s) * 1000) / s.baudRate;
  return {
    key: `rtu:${s.path}`,
    where: s.path,
    settings: `${s.baudRate} ${s.dataBits}${s.parity[0]?.toUpperCase() ?? 'N'}${s.stopBits}`,
    kind: 'rtu',
    // Spec (Modbus over serial line v1.02, 2.5.1.1): 3.5 characters, fixed at 1.75 ms above 19200 baud.
    frameGapMs: s.baudRate > 19200 ? 1.75 : 3.5 * charMs,
    byteMs: charMs,
    connect: (handlers) => openSerial(s, handlers),
  };
}

type SerialPortModule = typeof serialport;
let serialPortModule: Promise<SerialPortModule> | undefined;

/** Loads the optional `serialport` package on first use, so TCP-only boards never need it. */
export function loadSerialPort(): Promise<SerialPortModule> {
  serialPortModule ??= import('serialport').catch((err: unknown) => {
    serialPortModule = undefined;
    const why = err instanceof Error ? err.message : String(err);
    throw new Error(
      `modbus-rtu needs the optional package "serialport" (npm install serialport@13.0.0), which did not load: ${why}`,
    );
  });
  return serialPortModule;
}

async function openSerial(s: SerialSettings, handlers: ConnectionHandlers): Promise<Connection> {
  const { SerialPort } = await loadSerialPort();
  const port = new SerialPort({
    path: s.path,
    baudRate: s.baudRate,
    parity: s.parity,
    dataBits: s.dataBits,
    stopBits: s.stopBits,
    autoOpen: false,
  });
  let open = false;
  let lastError = '';
  port.on('error', (err: Error) => {
    lastError = err.message;
  });
  await new Promise<void>((resolve, reject) => {
    port.open((err) => {
      if (err) reject(new Error(err.message.replace(/^Error: /, '')));
      else resolve();
    });
  });
  open = true;
  port.on('data', (chunk: Buffer) => handlers.data(chunk));
  port.on('close', (err: Error | null) => {
    if (open) handlers.lost(err?.message ?? (lastError || 'port closed'));
    open = false;
  });
  return {
    write: (frame) => {
      port.write(frame);
    },
    close: () =>
      new Promise<void>((done) => {
        if (!open) return done();
        open = false;
        port.close(() => done());
      }),
  };
}

/* ------------------------------------------------------------------------------------------------ */
/* Sharing                                                                                           */

const links = new Map<string, ModbusLink>();

/**
 * The link for `spec`, shared with every other open device on the same port or host:port. Throws
 * when an open device already uses that port with different settings.
 */
export function acquireLink(spec: LinkSpec, clock: Clock, log: Logger): ModbusLink {
  let link = links.get(spec.key);
  if (link && link.spec.settings !== spec.settings) {
    throw new Error(
      `${spec.where} is already open at ${link.spec.settings}; every device on one bus must use the same settings (this one asks for ${spec.settings})`,
    );
  }
  if (!link) {
    link = new ModbusLink(spec, clock, log);
    links.set(spec.key, link);
  }
  link.users++;
  return link;
}

/** Gives back a link from acquireLink; the last user closes it. Never rejects. */
export async function releaseLink(link: ModbusLink): Promise<void> {
  link.users--;
  if (link.users > 0) return;
  if (links.get(link.spec.key) === link) links.delete(link.spec.key);
  await link.close();
}
