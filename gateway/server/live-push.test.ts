/**
 * The live hub pushes a frame in the turn it arrives (no timer between the controller's frame and
 * the websocket), each kind of client gets its view: the overview whole mmHg at every fourth frame,
 * a followed station 0.1 mmHg at every frame, both only what changed, plus a keepalive. Real
 * Socket.IO server and clients on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { test, type TestContext } from 'node:test';
import { Server } from 'socket.io';
import { io as connect, type Socket as ClientSocket } from 'socket.io-client';
import { KEEPALIVE_MS } from '../ipc/rate.js';
import type { StationFrame } from '../protocol.js';
import { runningFrame, sessionInfo, zoneFrames } from '../../test/support/frames.js';
import { LiveHub } from './plugins/live.js';

function frame(seq: number, pressures: number[], patch: Partial<StationFrame> = {}): StationFrame {
  return runningFrame({
    session: sessionInfo(),
    zones: zoneFrames(pressures).map((z) => ({ ...z, targetMmHg: 40, inlet: z.zone === 1 })),
    sampledAtMs: seq,
    sampledAtEpochMs: 1_800_000_000_000 + seq,
    ...patch,
  });
}

type Msg = Record<string, unknown>;

async function setup(t: TestContext, now: () => number) {
  const http = createServer();
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const { port } = http.address() as { port: number };
  const io = new Server(http, { serveClient: false });
  const hub = new LiveHub(io, now);
  hub.start();
  t.after(async () => {
    hub.stop();
    await io.close();
  });
  const client = async (sub: object) => {
    const socket: ClientSocket = connect(`http://127.0.0.1:${port}`, {
      transports: ['websocket'],
      reconnection: false,
    });
    t.after(() => socket.close());
    const got: Msg[] = [];
    socket.on('station', (m: Msg) => got.push(m));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    assert.deepEqual(await socket.timeout(2000).emitWithAck('subscribe', sub), { ok: true });
    return { socket, got, server: io.sockets.sockets.get(socket.id ?? '') };
  };
  return { hub, client };
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('a frame is handed to the websocket in the turn it arrives, not on a timer', async (t) => {
  const { hub, client } = await setup(t, () => performance.now());
  const follower = await client({ stationId: 'bay-1' });
  const overview = await client({ overview: true });
  hub.onFrame(frame(1, [10, 20]));
  await until(() => follower.got.length === 1 && overview.got.length === 1, 'the first messages');

  // engine.io creates the packet synchronously when Socket.IO sends it: count them during onFrame.
  let created = 0;
  follower.server?.conn.on('packetCreate', () => created++);
  // Wait until the transport took the last write, so the hub finds it writable.
  await until(() => follower.server?.conn.transport.writable === true, 'a writable transport');
  hub.onFrame(frame(2, [10.4, 20]));
  assert.equal(created, 1, 'the message left the hub before onFrame returned');
  await until(() => follower.got.length === 2, 'the second message');
  assert.deepEqual(follower.got[1], { id: 'bay-1', t: 1_800_000_000_002, zones: [10.4, 20] });
});

test('overview: whole mmHg at every fourth frame, only changes; a follower: 0.1 mmHg at every frame', async (t) => {
  let nowMs = 0;
  const { hub, client } = await setup(t, () => nowMs);
  const follower = await client({ stationId: 'bay-1' });
  const overview = await client({ overview: true });
  const pressures = [
    [10, 20],
    [10.2, 20],
    [10.4, 20.1],
    [11.3, 20.2],
    [11.4, 20.2],
    [11.4, 20.2],
    [11.4, 20.2],
    [11.4, 20.2],
  ];
  for (const [i, p] of pressures.entries()) {
    nowMs += 50;
    hub.onFrame(frame(i + 1, p));
    // One frame at a time, as the controller sends them, so every client is writable again.
    await until(
      () =>
        follower.server?.conn.transport.writable === true &&
        overview.server?.conn.transport.writable === true,
      'writable transports',
    );
    await new Promise((r) => setTimeout(r, 20));
  }
  await until(() => follower.got.length >= 5, 'the follower messages');

  // The follower: the first complete, then one per frame that changed (frames 2–5), never the
  // valve states; frames 6–8 changed nothing and the keepalive is not due yet.
  const first = follower.got[0] as Msg;
  assert.deepEqual(first.zones, [10, 20]);
  assert.deepEqual(first.targets, [40, 40]);
  assert.equal(first.elapsedS, 10);
  assert.equal(first.pumpDuty, 0.5);
  assert.equal(first.inlet, undefined);
  assert.equal(first.sampledAtMs, undefined);
  assert.deepEqual(
    follower.got.slice(1).map((m) => m.zones),
    [
      [10.2, 20],
      [10.4, 20.1],
      [11.3, 20.2],
      [11.4, 20.2],
    ],
  );
  assert.ok(follower.got.slice(1).every((m) => Object.keys(m).join() === 'id,t,zones'));

  // The overview: frame 1 (complete), frame 4 (whole mmHg changed), frame 8 (nothing a tile shows
  // changed: not sent).
  assert.equal(overview.got.length, 2, JSON.stringify(overview.got));
  const tile = overview.got[0] as Msg;
  assert.deepEqual(tile.zones, [10, 20]);
  assert.equal(tile.remainingS, 590);
  assert.equal(tile.elapsedS, undefined, 'the tile shows time left only');
  assert.equal(tile.pumpDuty, undefined);
  assert.deepEqual(overview.got[1], { id: 'bay-1', t: 1_800_000_000_004, zones: [11, 20] });

  // Nothing changes for longer than the keepalive: each client still hears from the station.
  nowMs += KEEPALIVE_MS;
  for (let i = 9; i <= 12; i++) hub.onFrame(frame(i, [11.4, 20.2]));
  await until(() => overview.got.length === 3, 'the overview keepalive');
  await until(() => follower.got.length === 6, 'the follower keepalive');
  assert.deepEqual(follower.got[5], { id: 'bay-1', t: 1_800_000_000_009 });
  assert.deepEqual(overview.got[2], { id: 'bay-1', t: 1_800_000_000_012 });
});

test('a new subscriber gets the current state at once, complete, without waiting for a frame', async (t) => {
  const { hub, client } = await setup(t, () => performance.now());
  hub.onFrame(frame(1, [30, 31], { alarms: [] }));
  const late = await client({ overview: true });
  await until(() => late.got.length === 1, 'the current state');
  assert.equal(late.got[0]?.state, 'running');
  assert.deepEqual(late.got[0]?.zones, [30, 31]);
});

test('alarm events go to clients that subscribed to them; frames carry the alarms for everyone else', async (t) => {
  const { hub, client } = await setup(t, () => performance.now());
  const overview = await client({ overview: true });
  const listener = await client({ alarms: true });
  const heard = { overview: 0, listener: 0 };
  overview.socket.on('alarm', () => heard.overview++);
  listener.socket.on('alarm', () => heard.listener++);
  const alarm = {
    id: 'a1',
    code: 'over-pressure' as const,
    priority: 'high' as const,
    stationId: 'bay-1',
    reason: 'Zone 1 reached 90 mmHg',
    raisedAtEpochMs: 1,
    latched: true,
    active: true,
  };
  hub.onAlarm('raised', alarm);
  hub.onFrame(frame(1, [90, 20], { state: 'fault', alarms: [alarm] }));
  await until(() => heard.listener === 1 && overview.got.length === 1, 'the alarm and the frame');
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(heard.overview, 0, 'no alarm event to a client that did not ask');
  assert.deepEqual(
    (overview.got[0]?.alarms as { id: string }[]).map((a) => a.id),
    ['a1'],
  );
});
