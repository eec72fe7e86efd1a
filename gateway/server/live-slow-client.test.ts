/**
 * A client that stops reading (a tablet that froze, a laptop on a bad VPN link) must not make the
 * web process queue telemetry for it, and must get the latest state, not a replay, when it reads
 * again. Real Socket.IO server and clients over TCP on 127.0.0.1; the slow client's socket is
 * paused, so the kernel's buffers between the two really fill and the server's writes really block.
 *
 * The frames are synthetic and large (as if a station had tens of thousands of zones: the views
 * send zone pressures as one compact array, about 200 kB here, as the full frames of 2,000 zones were) so that the loopback buffers (a few
 * MB) fill within seconds; the hub treats them like any frame.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Socket as NetSocket } from 'node:net';
import { test } from 'node:test';
import { Server } from 'socket.io';
import { io as connect, type Socket as ClientSocket } from 'socket.io-client';
import type { StationFrame, ZoneFrame } from '../protocol.js';
import { runningFrame } from '../../test/support/frames.js';
import { LiveHub, STATION_RATE_HZ } from './plugins/live.js';

const ZONES = 50_000;
const PRODUCE_MS = 6000;

function bigFrame(seq: number): StationFrame {
  const zones: ZoneFrame[] = Array.from({ length: ZONES }, (_, i) => ({
    zone: i + 1,
    // Changes every frame, so every message carries the zones again.
    pressureMmHg: (seq * 7 + i) % 120,
    targetMmHg: 60,
    sensor: 'ok',
    inlet: (seq + i) % 2 === 0,
    exhaust: true,
  }));
  return runningFrame({ zones, sampledAtMs: seq, sampledAtEpochMs: seq });
}

interface Received {
  count: number;
  lastSeq: number;
}

function follow(socket: ClientSocket): Received {
  const r: Received = { count: 0, lastSeq: -1 };
  socket.on('station', (m: { t?: unknown }) => {
    r.count++;
    // The views carry the sample time as `t` (gateway/ipc/views.ts); here it is seq.
    if (typeof m.t === 'number') r.lastSeq = m.t;
  });
  return r;
}

async function subscribed(url: string): Promise<ClientSocket> {
  const socket = connect(url, { transports: ['websocket'], reconnection: false });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  const ack = await socket.timeout(2000).emitWithAck('subscribe', { stationId: 'bay-1' });
  assert.deepEqual(ack, { ok: true });
  return socket;
}

/** The client's TCP socket under engine.io-client's WebSocket (the `ws` package in Node). */
function tcpOf(socket: ClientSocket): NetSocket {
  const transport = socket.io.engine.transport as unknown as { ws?: { _socket?: NetSocket } };
  const tcp = transport.ws?._socket;
  assert.ok(tcp, 'the client is on a WebSocket over TCP');
  return tcp;
}

test('a client that stops reading gets no backlog in the server, and the latest state when it reads again', async (t) => {
  const http = createServer();
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const { port } = http.address() as { port: number };
  const io = new Server(http, { serveClient: false });
  const hub = new LiveHub(io);
  hub.start();
  t.after(async () => {
    hub.stop();
    await io.close();
  });
  const url = `http://127.0.0.1:${port}`;

  const fast = await subscribed(url);
  const slow = await subscribed(url);
  t.after(() => {
    fast.close();
    slow.close();
  });
  const fastGot = follow(fast);
  const slowGot = follow(slow);
  const slowOnServer = io.sockets.sockets.get(slow.id ?? '');
  assert.ok(slowOnServer);

  tcpOf(slow).pause();
  let seq = 0;
  let maxServerQueue = 0;
  const producer = setInterval(() => {
    hub.onFrame(bigFrame(++seq));
    // engine.io's queue of packets not yet handed to the transport (private in its types).
    const queued = (slowOnServer.conn as unknown as { writeBuffer: unknown[] }).writeBuffer.length;
    maxServerQueue = Math.max(maxServerQueue, queued);
  }, 1000 / STATION_RATE_HZ);
  await new Promise((r) => setTimeout(r, PRODUCE_MS));
  clearInterval(producer);
  const produced = seq;
  const slowWhilePaused = slowGot.count;

  // The reading client kept up; the paused one got nothing (it reads nothing) and the server held
  // at most the one message it was writing when the buffers filled.
  assert.ok(fastGot.count >= produced * 0.8, `fast client got ${fastGot.count} of ${produced}`);
  assert.equal(slowWhilePaused, 0);
  assert.ok(maxServerQueue <= 1, `server queued ${maxServerQueue} packets for the paused client`);
  assert.equal(slowOnServer.conn.transport.writable, false, 'the server saw the write block');

  // It reads again: what the kernel buffers held arrives, then the latest frame, and no more
  // messages than the buffers could hold (far fewer than were produced while it was paused).
  tcpOf(slow).resume();
  const deadline = Date.now() + 10_000;
  while (slowGot.lastSeq !== produced && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.equal(slowGot.lastSeq, produced, 'the slow client ends on the latest state');
  assert.ok(
    slowGot.count < produced * 0.6,
    `the slow client got ${slowGot.count} messages for ${produced} frames: skipped, not replayed`,
  );
});
