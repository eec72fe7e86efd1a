/**
 * The controller's Unix socket: JSON lines (protocol.ts) for the web process and presso-ctl.
 *
 * The controller is the safety kernel, so this server must never let a client harm it:
 * - bad input of any kind gets an error reply, never an exception in the controller;
 * - the controller's event listener only records frames and arms a timer: encoding and writing
 *   happen outside the control tick;
 * - memory per client is bounded (see "Backpressure" below), so a client that stops reading
 *   cannot grow the controller without bound or delay the other clients.
 *
 * Frames: each client gets, per station, only the top-level fields that changed since the frame
 * last written to it (gateway/ipc/frame-diff.ts; id always present; a new client's first frame is
 * complete). A frame is written as soon as it arrives — in the next turn of the event loop, off
 * the tick's stack — unless the client got one of that station less than FRAME_INTERVAL_MS ago
 * (the controller produces them at that rate; the cap holds a faster producer to it): then it
 * waits out the remainder, and frames arriving meanwhile are coalesced, the latest wins.
 *
 * Backpressure: once socket.write() reports a full buffer, frames for that client are held (one
 * pending frame per station, the latest) until 'drain', so a slow client receives the current
 * state when it catches up rather than a backlog. Replies and non-frame events (alarms, session
 * ends) are never dropped: losing an alarm silently is worse than losing the client. If a client
 * has more than MAX_CLIENT_BACKLOG_BYTES unread when another such message is due, it is
 * disconnected with a logged reason; it may reconnect and will receive full frames again.
 */
import { connect as netConnect, createServer, type Server, type Socket } from 'node:net';
import { chmod, lstat, rm } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../drivers/io.js';
import { LineSplitter, MAX_LINE_BYTES } from './lines.js';
import { diffJson, encodeFrame, type EncodedFrame } from './frame-diff.js';
import { FRAME_INTERVAL_MS, FRAME_RATE_HZ } from './rate.js';
import {
  CommandError,
  PROTOCOL_VERSION,
  type CommandName,
  type Commands,
  type ErrorCode,
  type EventName,
  type Events,
  type ReplyMessage,
} from '../protocol.js';

/** The interface the controller implements for its socket. */
export interface ControllerApi {
  /** Validates `args` itself and throws CommandError ('bad-request' | 'refused' | 'not-found' |
   * 'unknown-command') when it turns a command down. `origin` names the client, for logs. */
  command<K extends CommandName>(cmd: K, args: Commands[K][0], origin: string): Promise<Commands[K][1]>;
  /** Full frames; returns the unsubscribe function. */
  onEvent(listener: <E extends EventName>(event: E, data: Events[E]) => void): () => void;
}

export const MAX_FRAME_RATE_HZ = FRAME_RATE_HZ;
/** Unread bytes a client may have before it is considered stuck and disconnected. */
export const MAX_CLIENT_BACKLOG_BYTES = 1024 * 1024;
/** Owner and group (the web process's user) may connect; nobody else may command the pumps. */
const SOCKET_MODE = 0o660;
/** How long the stale-socket probe waits; a live listener accepts within microseconds. */
const PROBE_TIMEOUT_MS = 1000;
/** Reply id for a line whose own id could not be read; clients number requests from 1. */
const NO_ID = 0;

/** Checked by the compiler against protocol.ts: a new command must be added here to be served. */
const COMMANDS: Record<CommandName, true> = {
  hello: true,
  state: true,
  config: true,
  start: true,
  pause: true,
  resume: true,
  adjust: true,
  stop: true,
  acknowledge: true,
  alarms: true,
  counters: true,
  'self-test': true,
  'set-zero-offsets': true,
  'sim-inject': true,
  'sim-clear': true,
  'sim-freeze': true,
};

/** A frame as the controller last reported it, encoded lazily (outside the tick) once for every
 * client. */
interface LatestFrame {
  readonly frame: Events['frame'];
  encoded?: EncodedFrame;
}

interface Client {
  readonly origin: string;
  readonly socket: Socket;
  readonly splitter: LineSplitter;
  /** Per station: the frame last written to this client; diffs are taken against it. */
  readonly sent: Map<string, EncodedFrame>;
  readonly lastSentAtMs: Map<string, number>;
  /** Per station: the latest frame not yet written (a newer one replaces it). */
  readonly pending: Map<string, LatestFrame>;
  timer: { kind: 'timeout'; t: NodeJS.Timeout } | { kind: 'immediate'; t: NodeJS.Immediate } | null;
  /** socket.write() said its buffer is full; frames wait for 'drain'. */
  congested: boolean;
  coalescedFrames: number;
  framesWritten: number;
  gone: boolean;
}

export interface IpcClientStats {
  origin: string;
  /** Bytes written to the socket but not yet taken by the kernel. */
  bufferedBytes: number;
  /** Frames replaced by a newer one before they were written (rate limit or backpressure). */
  coalescedFrames: number;
  /** Frame lines handed to the socket. */
  framesWritten: number;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

class RequestError extends Error {
  constructor(
    readonly id: number,
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

function encoded(latest: LatestFrame): EncodedFrame {
  latest.encoded ??= encodeFrame(latest.frame);
  return latest.encoded;
}

function clearTimer(client: Client): void {
  if (client.timer?.kind === 'timeout') clearTimeout(client.timer.t);
  else if (client.timer?.kind === 'immediate') clearImmediate(client.timer.t);
  client.timer = null;
}

/** Whether something answers on the socket path: true (live), false (stale or absent). */
function probe(socketPath: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(socketPath);
    const done = (live: boolean | Error) => {
      socket.destroy();
      if (live instanceof Error) reject(live);
      else resolve(live);
    };
    socket.setTimeout(PROBE_TIMEOUT_MS, () => done(true)); // accepted but silent still means someone is there
    socket.once('connect', () => done(true));
    socket.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ECONNREFUSED' || e.code === 'ENOENT') done(false);
      else done(new Error(`cannot check the controller socket ${socketPath}: ${e.message}`));
    });
  });
}

export class IpcServer {
  private server: Server | null = null;
  private unsubscribe: (() => void) | null = null;
  private readonly clients = new Set<Client>();
  private readonly latest = new Map<string, LatestFrame>();
  private nextClient = 1;

  constructor(
    private readonly api: ControllerApi,
    private readonly socketPath: string,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    if (this.server !== null) throw new Error('IpcServer already started');
    await this.removeStaleSocket();
    const server = createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      const onError = (e: NodeJS.ErrnoException) => {
        const hint =
          e.code === 'EADDRINUSE'
            ? 'another controller took the socket while this one was starting'
            : 'check that its directory exists and is writable';
        reject(new Error(`cannot listen on ${this.socketPath}: ${e.message} (${hint})`, { cause: e }));
      };
      server.once('error', onError);
      server.listen(this.socketPath, () => {
        server.off('error', onError);
        resolve();
      });
    });
    try {
      await chmod(this.socketPath, SOCKET_MODE);
    } catch (e) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      throw new Error(`cannot restrict ${this.socketPath} to owner and group: ${(e as Error).message}`, {
        cause: e,
      });
    }
    server.on('error', (e) => this.log.error(`controller socket: ${e.message}`));
    this.server = server;
    this.unsubscribe = this.api.onEvent((event, data) => {
      try {
        if (event === 'frame') this.onFrame(data as Events['frame']);
        else this.broadcast(event, data);
      } catch (e) {
        // Called from the controller's tick: a bug here must not reach it.
        this.log.error(`broadcasting "${event}" failed: ${(e as Error).stack ?? String(e)}`);
      }
    });
    this.log.info(`listening on ${this.socketPath}`);
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server === null) return;
    this.server = null;
    this.unsubscribe?.();
    this.unsubscribe = null;
    for (const client of this.clients) this.drop(client);
    this.latest.clear();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    // Node unlinks the socket on close; force covers a file someone removed already.
    await rm(this.socketPath, { force: true });
    this.log.info(`stopped listening on ${this.socketPath}`);
  }

  clientStats(): IpcClientStats[] {
    return [...this.clients].map((c) => ({
      origin: c.origin,
      bufferedBytes: c.socket.writableLength,
      coalescedFrames: c.coalescedFrames,
      framesWritten: c.framesWritten,
    }));
  }

  /** A socket file left by a controller that crashed is removed; a live one is never taken
   * over, since two controllers must not drive the same board. */
  private async removeStaleSocket(): Promise<void> {
    let isSocket: boolean;
    try {
      isSocket = (await lstat(this.socketPath)).isSocket();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    if (!isSocket) {
      throw new Error(`${this.socketPath} exists and is not a socket; not removing it (choose another path)`);
    }
    if (await probe(this.socketPath)) {
      throw new Error(
        `another controller is already listening on ${this.socketPath}; stop it first ` +
          '(two controllers must never drive the same board)',
      );
    }
    this.log.warn(`removing stale socket ${this.socketPath} (nothing answers on it)`);
    await rm(this.socketPath, { force: true });
  }

  private accept(socket: Socket): void {
    const client: Client = {
      origin: `ipc#${this.nextClient++}`,
      socket,
      splitter: new LineSplitter(MAX_LINE_BYTES),
      sent: new Map(),
      lastSentAtMs: new Map(),
      pending: new Map(),
      timer: null,
      congested: false,
      coalescedFrames: 0,
      framesWritten: 0,
      gone: false,
    };
    this.clients.add(client);
    this.log.info(`${client.origin} connected`);
    socket.on('data', (chunk: Buffer) => this.onData(client, chunk));
    socket.on('drain', () => {
      client.congested = false;
      this.scheduleFrames(client);
    });
    socket.on('error', (e) => this.log.info(`${client.origin}: ${e.message}`));
    socket.on('close', () => {
      if (!client.gone) this.log.info(`${client.origin} disconnected`);
      this.drop(client);
    });
    // A new client starts from complete frames of every station.
    for (const latest of this.latest.values()) client.pending.set(latest.frame.id, latest);
    this.scheduleFrames(client);
  }

  private drop(client: Client): void {
    client.gone = true;
    clearTimer(client);
    client.pending.clear();
    this.clients.delete(client);
    client.socket.destroy();
  }

  private onData(client: Client, chunk: Buffer): void {
    const { lines, tooLong } = client.splitter.push(chunk);
    for (const line of lines) this.onLine(client, line);
    if (tooLong) {
      this.log.warn(`${client.origin} sent a line longer than ${MAX_LINE_BYTES} bytes; closing it`);
      this.reply(client, {
        v: PROTOCOL_VERSION,
        id: NO_ID,
        ok: false,
        error: { code: 'bad-request', message: `line longer than ${MAX_LINE_BYTES} bytes; closing` },
      });
      // Framing is lost: whatever follows would be read as garbage. Unix sockets keep data
      // already written readable after close, so the error reply still arrives.
      client.socket.pause();
      client.socket.end(() => this.drop(client));
    }
  }

  private onLine(client: Client, line: string): void {
    let cmd: CommandName;
    let id: number;
    let args: unknown;
    try {
      ({ cmd, id, args } = this.parseRequest(line));
    } catch (e) {
      const {
        id: badId,
        code,
        message,
      } = e instanceof RequestError ? e : new RequestError(NO_ID, 'internal', String(e));
      this.reply(client, { v: PROTOCOL_VERSION, id: badId, ok: false, error: { code, message } });
      return;
    }
    // The controller checks args against the command's schema (gateway/ipc/validate.ts); the
    // envelope check made them an object.
    const call = () => this.api.command(cmd, args as Commands[typeof cmd][0], client.origin);
    Promise.resolve()
      .then(call)
      .then(
        (result) => this.reply(client, { v: PROTOCOL_VERSION, id, ok: true, result }),
        (e: unknown) => {
          if (e instanceof CommandError) {
            this.reply(client, {
              v: PROTOCOL_VERSION,
              id,
              ok: false,
              error: { code: e.code, message: e.message },
            });
            return;
          }
          const message = e instanceof Error ? e.message : String(e);
          this.log.error(`"${cmd}" from ${client.origin} failed: ${e instanceof Error ? e.stack : message}`);
          this.reply(client, { v: PROTOCOL_VERSION, id, ok: false, error: { code: 'internal', message } });
        },
      );
  }

  private parseRequest(line: string): { cmd: CommandName; id: number; args: unknown } {
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      throw new RequestError(NO_ID, 'bad-request', 'not valid JSON');
    }
    if (!isRecord(message)) throw new RequestError(NO_ID, 'bad-request', 'a request must be a JSON object');
    const id = Number.isSafeInteger(message.id) ? (message.id as number) : NO_ID;
    if (message.v !== PROTOCOL_VERSION) {
      throw new RequestError(
        id,
        'version',
        `protocol version ${JSON.stringify(message.v)} not supported; this controller speaks ${PROTOCOL_VERSION}`,
      );
    }
    if (!Number.isSafeInteger(message.id)) {
      throw new RequestError(NO_ID, 'bad-request', '"id" must be an integer');
    }
    if (typeof message.cmd !== 'string') throw new RequestError(id, 'bad-request', '"cmd" must be a string');
    if (!Object.hasOwn(COMMANDS, message.cmd)) {
      throw new RequestError(id, 'unknown-command', `unknown command "${message.cmd}"`);
    }
    const args = message.args ?? {};
    if (!isRecord(args)) throw new RequestError(id, 'bad-request', '"args" must be an object');
    return { cmd: message.cmd as CommandName, id, args };
  }

  private reply(client: Client, message: ReplyMessage): void {
    let line: string;
    try {
      line = JSON.stringify(message);
    } catch (e) {
      this.log.error(`reply ${message.id} to ${client.origin} cannot be encoded: ${(e as Error).message}`);
      line = JSON.stringify({
        v: PROTOCOL_VERSION,
        id: message.id,
        ok: false,
        error: { code: 'internal', message: 'the result could not be encoded' },
      });
    }
    this.sendReliable(client, line);
  }

  private broadcast(event: Exclude<EventName, 'frame'>, data: unknown): void {
    if (this.clients.size === 0) return;
    const line = JSON.stringify({ v: PROTOCOL_VERSION, event, data });
    for (const client of this.clients) this.sendReliable(client, line);
  }

  /** For messages that must not be lost: written now, or the client is cut off. */
  private sendReliable(client: Client, line: string): void {
    if (client.gone || client.socket.writableEnded) return;
    const backlog = client.socket.writableLength;
    if (backlog > MAX_CLIENT_BACKLOG_BYTES) {
      this.log.warn(
        `${client.origin} has ${backlog} bytes unread (limit ${MAX_CLIENT_BACKLOG_BYTES}); ` +
          'disconnecting it so it cannot hold controller memory',
      );
      this.drop(client);
      return;
    }
    if (!client.socket.write(`${line}\n`)) client.congested = true;
  }

  private onFrame(frame: Events['frame']): void {
    const latest: LatestFrame = { frame };
    this.latest.set(frame.id, latest);
    for (const client of this.clients) {
      if (client.pending.has(frame.id)) client.coalescedFrames++;
      client.pending.set(frame.id, latest);
      this.scheduleFrames(client);
    }
  }

  /** Arms the client's one timer for its earliest due station; never writes from the caller's
   * stack, so the controller's tick never pays for encoding or socket writes. */
  private scheduleFrames(client: Client): void {
    if (client.gone || client.congested || client.timer !== null || client.pending.size === 0) return;
    const now = performance.now();
    let waitMs = Number.POSITIVE_INFINITY;
    for (const stationId of client.pending.keys()) {
      const due = (client.lastSentAtMs.get(stationId) ?? Number.NEGATIVE_INFINITY) + FRAME_INTERVAL_MS;
      waitMs = Math.min(waitMs, due - now);
    }
    const run = () => {
      client.timer = null;
      this.writeDueFrames(client);
    };
    // Due now (the usual case: frames come at the rate the cap allows): the next turn of the
    // event loop, not a timer's millisecond.
    client.timer =
      waitMs <= 0
        ? { kind: 'immediate', t: setImmediate(run) }
        : { kind: 'timeout', t: setTimeout(run, waitMs) };
  }

  private writeDueFrames(client: Client): void {
    const now = performance.now();
    for (const [stationId, latest] of client.pending) {
      if (client.gone || client.congested) return;
      const last = client.lastSentAtMs.get(stationId) ?? Number.NEGATIVE_INFINITY;
      if (now - last < FRAME_INTERVAL_MS) continue;
      client.pending.delete(stationId);
      this.writeFrame(client, stationId, latest, now);
    }
    this.scheduleFrames(client);
  }

  private writeFrame(client: Client, stationId: string, latest: LatestFrame, now: number): void {
    if (client.socket.writableEnded) return;
    const next = encoded(latest);
    const data = diffJson(client.sent.get(stationId), next);
    client.sent.set(stationId, next);
    if (data === null) return; // nothing changed for this client
    client.lastSentAtMs.set(stationId, now);
    const line = `{"v":${PROTOCOL_VERSION},"event":"frame","data":${data}}\n`;
    client.framesWritten++;
    if (!client.socket.write(line)) client.congested = true;
  }
}
