import { FakeStations } from '../control-loop/test-support/fake-stations.js';
import { stationFrame as idleFrame } from '../../test/support/frames.js';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../drivers/io.js';
import { ControllerClient, ControllerLinkError } from './client.js';
import { LineSplitter } from './lines.js';
import {
  CommandError,
  PROTOCOL_VERSION,
  type AlarmInfo,
  type CommandName,
  type Commands,
  type StartArgs,
  type StationFrame,
} from '../protocol.js';
import { IpcServer, MAX_CLIENT_BACKLOG_BYTES, type ControllerApi } from './server.js';

const TEST_TIMEOUT_MS = 15_000;
const ONE_MIB = 1024 * 1024;

// ---------------------------------------------------------------- fakes and helpers

function stationFrame(id: string, patch: Partial<StationFrame> = {}): StationFrame {
  return idleFrame(id, { name: `Lounge ${id}`, ...patch });
}

/** In-memory stations: enough of the controller to exercise every path of the socket. */
class FakeController extends FakeStations implements ControllerApi {
  readonly calls: { cmd: string; origin: string }[] = [];
  /** Per station, how long 'state' takes: makes replies come back out of order. */
  readonly stateDelayMs = new Map<string, number>();
  private releaseHanging: (() => void)[] = [];

  constructor(ids: string[]) {
    super();
    for (const id of ids) this.stations.set(id, stationFrame(id));
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  async command<K extends CommandName>(
    cmd: K,
    args: Commands[K][0],
    origin: string,
  ): Promise<Commands[K][1]> {
    this.calls.push({ cmd, origin });
    return (await this.handle(cmd, args as Record<string, unknown>)) as Commands[K][1];
  }

  releaseAll(): void {
    for (const r of this.releaseHanging) r();
    this.releaseHanging = [];
  }

  private async handle(cmd: CommandName, args: Record<string, unknown>): Promise<unknown> {
    switch (cmd) {
      case 'state': {
        if (args.stationId === undefined) return [...this.stations.values()];
        const s = this.station(args.stationId);
        await sleep(this.stateDelayMs.get(s.id) ?? 0);
        return [s];
      }
      case 'start': {
        const a = args as unknown as StartArgs;
        const s = this.station(a.stationId);
        if (typeof a.program !== 'object' || a.program === null) {
          throw new CommandError('bad-request', 'start needs a program');
        }
        if (s.state !== 'idle')
          throw new CommandError('refused', `station ${s.id} is ${s.state}; stop it first`);
        if (a.pressureMmHg !== undefined && a.pressureMmHg > s.ceilingMmHg) {
          throw new CommandError(
            'refused',
            `${a.pressureMmHg} mmHg is above the ${s.ceilingMmHg} mmHg ceiling`,
          );
        }
        this.emit('session-started', { stationId: s.id, sessionId: a.sessionId });
        return this.update(s.id, { state: 'running', phase: { kind: 'inflating', zone: 1 } });
      }
      case 'stop': {
        const ids =
          args.stationId === undefined ? [...this.stations.keys()] : [this.station(args.stationId).id];
        return ids.map((id) => this.update(id, { state: 'venting', phase: null }));
      }
      case 'self-test':
        // Never answers until released: a request in flight when the connection drops.
        await new Promise<void>((resolve) => this.releaseHanging.push(resolve));
        throw new CommandError('refused', 'released');
      case 'config':
        throw new Error('config file vanished');
      default:
        throw new CommandError('unknown-command', `the fake does not do "${cmd}"`);
    }
  }
}

class MemoryLog implements Logger {
  readonly lines: string[] = [];
  info(m: string): void {
    this.lines.push(`info: ${m}`);
  }
  warn(m: string): void {
    this.lines.push(`warn: ${m}`);
  }
  error(m: string): void {
    this.lines.push(`error: ${m}`);
  }
}

function tempSocketPath(t: TestContext): string {
  // Kept short: a Unix socket path is limited to about 107 bytes.
  const dir = mkdtempSync(join(tmpdir(), 'presso-ipc-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'c.sock');
}

async function startServer(
  t: TestContext,
  fake: FakeController,
  socketPath: string,
): Promise<{ server: IpcServer; log: MemoryLog }> {
  const log = new MemoryLog();
  const server = new IpcServer(fake, socketPath, log);
  await server.start();
  t.after(() => server.stop());
  return { server, log };
}

async function connectClient(t: TestContext, socketPath: string): Promise<ControllerClient> {
  const client = new ControllerClient({ log: new MemoryLog() });
  t.after(() => client.close());
  await client.connect(socketPath);
  return client;
}

type Message = Record<string, unknown>;

/** A client that speaks raw lines, to send what ControllerClient never would. */
class RawClient {
  readonly messages: Message[] = [];
  closed = false;
  private readonly splitter = new LineSplitter(16 * ONE_MIB);
  private readonly waiters = new Set<() => void>();

  constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const line of this.splitter.push(chunk).lines) this.messages.push(JSON.parse(line) as Message);
      this.wake();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  send(line: string | object): void {
    this.socket.write(`${typeof line === 'string' ? line : JSON.stringify(line)}\n`);
  }

  frames(stationId?: string): Message[] {
    return this.messages
      .filter((m) => m.event === 'frame')
      .map((m) => m.data as Message)
      .filter((d) => stationId === undefined || d.id === stationId);
  }

  /** Resolves when `check` holds, failing the test after `timeoutMs`. */
  async until(check: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      const left = deadline - Date.now();
      if (left <= 0) assert.fail(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.min(left, 50));
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.waiters.add(done);
      });
    }
  }

  async reply(id: number): Promise<Message> {
    await this.until(() => this.messages.some((m) => m.id === id), `reply ${id}`);
    return this.messages.find((m) => m.id === id) as Message;
  }

  private wake(): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const w of waiters) w();
  }
}

async function rawClient(t: TestContext, socketPath: string): Promise<RawClient> {
  const socket = netConnect(socketPath);
  t.after(() => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return new RawClient(socket);
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

function request(id: number, cmd: string, args: object = {}): object {
  return { v: PROTOCOL_VERSION, id, cmd, args };
}

const aProgram = { id: 'p', name: 'P', version: 1 } as unknown as StartArgs['program'];

// ---------------------------------------------------------------- tests

describe('controller socket: requests and replies', { timeout: TEST_TIMEOUT_MS }, () => {
  test('two clients at once each get their own replies, matched by id even out of order', async (t) => {
    const path = tempSocketPath(t);
    const fake = new FakeController(['a', 'b']);
    fake.stateDelayMs.set('a', 80);
    await startServer(t, fake, path);
    const [one, two] = await Promise.all([connectClient(t, path), connectClient(t, path)]);
    const asked = await Promise.all([
      one.request('state', { stationId: 'a' }),
      one.request('state', { stationId: 'b' }),
      two.request('state', { stationId: 'b' }),
      two.request('state', { stationId: 'a' }),
    ]);
    assert.deepEqual(
      asked.map((frames) => frames.map((f) => f.id)),
      [['a'], ['b'], ['b'], ['a']],
    );
    assert.equal(new Set(fake.calls.map((c) => c.origin)).size, 2, 'each connection has its own origin');

    const raw = await rawClient(t, path);
    raw.send(request(5, 'state', { stationId: 'a' }));
    raw.send(request(6, 'state', { stationId: 'b' }));
    await raw.reply(5);
    const replies = raw.messages.filter((m) => typeof m.id === 'number');
    assert.deepEqual(
      replies.map((m) => m.id),
      [6, 5],
      'the slow request answers last, under its own id',
    );
    assert.equal(((replies[1]?.result as Message[])[0] as Message).id, 'a');
  });

  test('a refusal reaches the caller as CommandError with the reason', async (t) => {
    const path = tempSocketPath(t);
    const fake = new FakeController(['a']);
    await startServer(t, fake, path);
    const client = await connectClient(t, path);
    await client.request('start', { stationId: 'a', sessionId: 's1', program: aProgram });
    await assert.rejects(client.request('start', { stationId: 'a', sessionId: 's2', program: aProgram }), {
      name: 'CommandError',
      code: 'refused',
      message: 'station a is running; stop it first',
    });
    await assert.rejects(client.request('pause', { stationId: 'zz' }), { code: 'unknown-command' });
  });

  test('bad lines get error replies and the connection keeps serving', async (t) => {
    const path = tempSocketPath(t);
    const { log } = await startServer(t, new FakeController(['a']), path);
    const raw = await rawClient(t, path);
    const cases: [string, number, string][] = [
      ['{not json', 0, 'bad-request'],
      ['[1,2]', 0, 'bad-request'],
      [JSON.stringify({ v: 1, cmd: 'state' }), 0, 'bad-request'],
      [JSON.stringify({ v: 1, id: 1.5, cmd: 'state' }), 0, 'bad-request'],
      [JSON.stringify({ v: 2, id: 3, cmd: 'state' }), 3, 'version'],
      [JSON.stringify({ id: 4, cmd: 'state' }), 4, 'version'],
      [JSON.stringify({ v: 1, id: 5, cmd: 42 }), 5, 'bad-request'],
      [JSON.stringify({ v: 1, id: 6, cmd: 'explode' }), 6, 'unknown-command'],
      [JSON.stringify({ v: 1, id: 7, cmd: 'toString' }), 7, 'unknown-command'],
      [JSON.stringify({ v: 1, id: 8, cmd: 'state', args: 7 }), 8, 'bad-request'],
      [JSON.stringify({ v: 1, id: 9, cmd: 'state', args: { stationId: 'nope' } }), 9, 'not-found'],
      [JSON.stringify({ v: 1, id: 10, cmd: 'config' }), 10, 'internal'],
    ];
    for (const [line] of cases) raw.send(line);
    raw.send(request(11, 'state'));
    await raw.reply(11);
    const errors = raw.messages.filter((m) => m.ok === false);
    assert.deepEqual(
      errors.map((m) => [m.id, (m.error as Message).code]),
      cases.map(([, id, code]) => [id, code]),
    );
    for (const m of errors) assert.equal(m.v, PROTOCOL_VERSION);
    const internal = errors.at(-1)?.error as Message;
    assert.equal(internal.message, 'config file vanished');
    assert.ok(log.lines.some((l) => l.startsWith('error: "config"') && l.includes('config file vanished')));
    assert.equal((await raw.reply(11)).ok, true);
    assert.equal(raw.closed, false);
  });

  test('an oversized line gets an error and its connection is closed; others carry on', async (t) => {
    const path = tempSocketPath(t);
    const { log } = await startServer(t, new FakeController(['a']), path);
    const bystander = await rawClient(t, path);
    const raw = await rawClient(t, path);
    raw.socket.write('x'.repeat(ONE_MIB + 1));
    await raw.until(() => raw.closed, 'the oversized client to be closed');
    const error = raw.messages.find((m) => m.ok === false)?.error as Message;
    assert.equal(error.code, 'bad-request');
    assert.match(String(error.message), /longer than 1048576 bytes/);
    assert.ok(log.lines.some((l) => l.includes('longer than')));
    bystander.send(request(1, 'state'));
    assert.equal((await bystander.reply(1)).ok, true);
    const fresh = await rawClient(t, path);
    fresh.send(request(1, 'state'));
    assert.equal((await fresh.reply(1)).ok, true);
  });

  test('a request without an answer times out on the client; the late reply is ignored', async (t) => {
    const path = tempSocketPath(t);
    const fake = new FakeController(['a']);
    await startServer(t, fake, path);
    const client = await connectClient(t, path);
    await assert.rejects(client.request('self-test', { stationId: 'a', kind: 'leak' }, 100), {
      name: 'ControllerLinkError',
      code: 'timeout',
    });
    fake.releaseAll();
    assert.equal((await client.request('state', {})).length, 1, 'the connection still works');
  });
});

describe('controller socket: frames', { timeout: TEST_TIMEOUT_MS }, () => {
  test('a new client gets full frames, then only the fields that changed', async (t) => {
    const path = tempSocketPath(t);
    const fake = new FakeController(['a', 'b']);
    await startServer(t, fake, path);
    fake.update('a', { pumpDuty: 0.1 });
    fake.update('b', {});
    const raw = await rawClient(t, path);
    await raw.until(() => raw.frames().length === 2, 'full frames of both stations');
    assert.deepEqual(raw.frames('a')[0], stationFrame('a', { pumpDuty: 0.1 }));

    await sleep(60); // past the rate limit, so the next frame goes out at once
    fake.update('a', { pumpDuty: 0.5, phase: { kind: 'holding', zone: 2 } });
    await raw.until(() => raw.frames('a').length === 2, 'a second frame');
    assert.deepEqual(raw.frames('a')[1], { id: 'a', pumpDuty: 0.5, phase: { kind: 'holding', zone: 2 } });

    await sleep(60);
    fake.update('a', {}); // nothing changed: nothing is sent
    fake.update('b', { link: 'degraded' });
    await raw.until(() => raw.frames('b').length === 2, 'the change of b');
    await sleep(60);
    assert.equal(raw.frames('a').length, 2);
    assert.deepEqual(raw.frames('b')[1], { id: 'b', link: 'degraded' });
  });

  test('a frame is written in the next turn after it arrives, with no timer in between', async (t) => {
    const path = tempSocketPath(t);
    const fake = new FakeController(['a']);
    const { server } = await startServer(t, fake, path);
    const raw = await rawClient(t, path);
    fake.update('a', {});
    await raw.until(() => raw.frames('a').length === 1, 'the first frame');
    await sleep(60); // past the cap, as the controller's frames always are
    const written = () => server.clientStats()[0]?.framesWritten ?? 0;
    const before = written();
    fake.update('a', { pumpDuty: 0.7 });
    assert.equal(written(), before, 'never written from the controller tick’s own stack');
    // The server's setImmediate was queued during update(), so it runs before this one.
    await new Promise((r) => setImmediate(r));
    assert.equal(written(), before + 1, 'written in the next turn of the event loop');
    await raw.until(() => raw.frames('a').length === 2, 'the frame at the client');
    assert.deepEqual(raw.frames('a')[1], { id: 'a', pumpDuty: 0.7 });
  });

  test('ControllerClient hands listeners the merged full frame', async (t) => {
    const path = tempSocketPath(t);
    const fake = new FakeController(['a']);
    await startServer(t, fake, path);
    const client = await connectClient(t, path);
    const seen: StationFrame[] = [];
    client.on('frame', (f) => seen.push(f));
    fake.update('a', { pumpDuty: 0.3 });
    await waitFor(() => seen.length === 1, 'the first frame');
    await sleep(60);
    fake.update('a', { state: 'running' });
    await waitFor(() => seen.length === 2, 'the second frame');
    assert.deepEqual(seen[1], stationFrame('a', { pumpDuty: 0.3, state: 'running' }));
    assert.deepEqual(client.frames(), [seen[1]]);
  });

  test('frames faster than 20 Hz are coalesced and the last one sent is the latest state', async (t) => {
    const path = tempSocketPath(t);
    const fake = new FakeController(['a']);
    await startServer(t, fake, path);
    fake.update('a', {});
    const raw = await rawClient(t, path);
    await raw.until(() => raw.frames('a').length === 1, 'the initial frame');
    await sleep(60);
    const began = performance.now();
    for (let i = 1; i <= 100; i++) {
      fake.update('a', { sampledAtMs: i });
      if (i % 10 === 0) await sleep(10); // 100 frames in about 100 ms
    }
    const spreadMs = performance.now() - began;
    await raw.until(() => raw.frames('a').at(-1)?.sampledAtMs === 100, 'the latest frame');
    await sleep(120); // anything still queued would arrive now
    const burst = raw.frames('a').slice(1);
    // One frame per 50 ms window the burst touched, plus the one that flushes the last window.
    const allowed = Math.floor(spreadMs / 50) + 2;
    t.diagnostic(`100 frames over ${spreadMs.toFixed(0)} ms reached the client as ${burst.length}`);
    assert.ok(burst.length <= allowed, `${burst.length} frames for a ${spreadMs.toFixed(0)} ms burst`);
    assert.equal(burst.at(-1)?.sampledAtMs, 100);
  });

  test('a client that never reads holds bounded memory and does not delay the others', async (t) => {
    const path = tempSocketPath(t);
    const fake = new FakeController(['a']);
    const { server, log } = await startServer(t, fake, path);
    const stalled = await rawClient(t, path);
    stalled.socket.pause();
    const reader = await rawClient(t, path);
    const frameBytes = 100_000;
    const bigName = 'n'.repeat(frameBytes);
    let stalledWorst = 0;
    let i = 0;
    const began = performance.now();
    while (performance.now() - began < 800) {
      // Every frame differs in a 100 KB field: 2 MB/s at 20 Hz, far more than the kernel buffers.
      i++;
      fake.update('a', { name: `${bigName}${i}`, sampledAtMs: i });
      await sleep(5);
      const stalledStats = server.clientStats().find((s) => s.origin === 'ipc#1');
      stalledWorst = Math.max(stalledWorst, stalledStats?.bufferedBytes ?? 0);
    }
    const lastEmit = performance.now();
    await reader.until(
      () => reader.frames('a').at(-1)?.sampledAtMs === i,
      'the reader to get the latest frame',
    );
    const readerLagMs = performance.now() - lastEmit;
    t.diagnostic(
      `${i} frames; stalled client peaked at ${stalledWorst} B queued; reader lag ${readerLagMs.toFixed(0)} ms`,
    );
    assert.ok(readerLagMs < 500, 'the reader is not held up by the stalled client');
    const stats = server.clientStats();
    assert.equal(stats.length, 2, 'frames alone never cost the stalled client its connection');
    assert.ok(stalledWorst > 0, 'the kernel buffer filled, so backpressure was in play');
    assert.ok(
      stalledWorst < 2 * frameBytes,
      `at most one frame beyond the socket's high-water mark was queued (${stalledWorst} B)`,
    );
    assert.ok(
      (stats.find((s) => s.origin === 'ipc#1')?.coalescedFrames ?? 0) > i / 2,
      'the stalled client had frames replaced, not queued',
    );
    assert.ok(!log.lines.some((l) => l.includes('disconnecting')));
  });

  test('a client that never reads alarms is disconnected with a logged reason; others get every alarm', async (t) => {
    const path = tempSocketPath(t);
    const fake = new FakeController(['a']);
    const { server, log } = await startServer(t, fake, path);
    const stalled = await rawClient(t, path);
    stalled.socket.pause();
    const reader = await connectClient(t, path);
    const alarms: AlarmInfo[] = [];
    reader.on('alarm-raised', (a) => alarms.push(a));
    const reason = 'r'.repeat(64 * 1024);
    const count = 60; // about 4 MB, several times the backlog bound
    for (let i = 0; i < count; i++) {
      fake.emit('alarm-raised', {
        id: `al-${i}`,
        code: 'over-pressure',
        priority: 'high',
        stationId: 'a',
        reason,
        raisedAtEpochMs: i,
        latched: true,
        active: true,
      });
      await sleep(1);
    }
    await waitFor(() => alarms.length === count, 'every alarm at the reading client');
    await waitFor(() => server.clientStats().length === 1, 'the stalled client to be dropped');
    assert.ok(
      log.lines.some(
        (l) => l.startsWith('warn: ipc#1 has') && l.includes(`limit ${MAX_CLIENT_BACKLOG_BYTES}`),
      ),
      log.lines.join('\n'),
    );
  });
});

describe('controller socket: lifecycle', { timeout: TEST_TIMEOUT_MS }, () => {
  test('start() makes a 0660 socket and stop() removes it and unsubscribes', async (t) => {
    const path = tempSocketPath(t);
    const fake = new FakeController(['a']);
    const server = new IpcServer(fake, path, new MemoryLog());
    await server.start();
    assert.equal(statSync(path).mode & 0o777, 0o660);
    assert.equal(fake.listenerCount, 1);
    const raw = await rawClient(t, path);
    await server.stop();
    assert.equal(existsSync(path), false);
    assert.equal(fake.listenerCount, 0);
    await raw.until(() => raw.closed, 'the client to be closed');
  });

  test('a second controller on a live socket refuses to start and leaves the first one serving', async (t) => {
    const path = tempSocketPath(t);
    await startServer(t, new FakeController(['a']), path);
    const second = new IpcServer(new FakeController(['b']), path, new MemoryLog());
    await assert.rejects(second.start(), /another controller is already listening on .*c\.sock/);
    const raw = await rawClient(t, path);
    raw.send(request(1, 'state'));
    const reply = await raw.reply(1);
    assert.equal(((reply.result as Message[])[0] as Message).id, 'a');
  });

  test('a socket file left by a killed controller is replaced; a regular file is not', async (t) => {
    const path = tempSocketPath(t);
    const child = spawn(
      process.execPath,
      ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    t.after(() => child.kill('SIGKILL'));
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL'); // no chance to unlink: the file stays, nobody listens
    await exited;
    assert.ok(statSync(path).isSocket());
    const { log } = await startServer(t, new FakeController(['a']), path);
    assert.ok(log.lines.some((l) => l.startsWith('warn: removing stale socket')));
    const raw = await rawClient(t, path);
    raw.send(request(1, 'state'));
    assert.equal((await raw.reply(1)).ok, true);

    const filePath = `${path}.txt`;
    writeFileSync(filePath, 'keep me');
    await assert.rejects(
      new IpcServer(new FakeController([]), filePath, new MemoryLog()).start(),
      /is not a socket/,
    );
    assert.equal(readFileSync(filePath, 'utf8'), 'keep me');
  });

  test('the client rejects pending requests on a drop and reconnects when the controller is back', async (t) => {
    const path = tempSocketPath(t);
    const fake = new FakeController(['a']);
    const log = new MemoryLog();
    let server = new IpcServer(fake, path, log);
    await server.start();
    t.after(() => server.stop());
    fake.update('a', {});
    const client = await connectClient(t, path);
    const events: string[] = [];
    client.on('connected', () => events.push('connected'));
    client.on('disconnected', ({ reason }) => events.push(`disconnected: ${reason}`));
    await waitFor(() => client.frames().length === 1, 'the first frame');

    const pending = client.request('self-test', { stationId: 'a', kind: 'leak' }, 10_000);
    await waitFor(() => fake.calls.some((c) => c.cmd === 'self-test'), 'the request to reach the controller');
    const rejected = assert.rejects(pending, (e: unknown) => {
      assert.ok(e instanceof ControllerLinkError);
      assert.equal(e.code, 'disconnected');
      assert.match(e.message, /"self-test" got no reply/);
      return true;
    });
    await server.stop();
    await rejected;
    assert.equal(client.isConnected, false);
    assert.deepEqual(client.frames(), [], 'frames of a controller that is gone are not kept');
    await assert.rejects(client.request('state', {}), { code: 'disconnected' });
    fake.releaseAll();

    await sleep(300); // a few failed attempts, so the back-off is in play
    server = new IpcServer(fake, path, log);
    await server.start();
    await waitFor(() => client.isConnected, 'the client to reconnect', 4000);
    assert.match(events[0] ?? '', /^disconnected: connection to the controller lost/);
    assert.equal(events.at(-1), 'connected');
    assert.equal((await client.request('state', {})).length, 1);
    fake.update('a', { pumpDuty: 0.2 }); // the restarted controller's first tick
    await waitFor(() => client.frames().length === 1, 'a full frame after reconnecting');
    assert.deepEqual(client.frames()[0], stationFrame('a', { pumpDuty: 0.2 }));
  });

  test('connect() fails at once with "unreachable" when nothing listens, or waits with retry', async (t) => {
    const path = tempSocketPath(t);
    const once = new ControllerClient({ log: new MemoryLog() });
    await assert.rejects(once.connect(path), (e: unknown) => {
      assert.ok(e instanceof ControllerLinkError);
      assert.equal(e.code, 'unreachable');
      assert.equal((e.cause as NodeJS.ErrnoException).code, 'ENOENT');
      return true;
    });

    const patient = new ControllerClient({ log: new MemoryLog() });
    t.after(() => patient.close());
    const connected = patient.connect(path, { retry: true });
    await sleep(250);
    await startServer(t, new FakeController(['a']), path);
    await connected;
    assert.equal((await patient.request('state', {})).length, 1);

    const abandoned = new ControllerClient({ log: new MemoryLog() });
    const waiting = abandoned.connect(`${path}.none`, { retry: true });
    await sleep(150);
    await abandoned.close();
    await assert.rejects(waiting, { code: 'disconnected' });
  });
});
