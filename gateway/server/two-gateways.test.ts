/**
 * Two gateways on one machine (a test bench next to a live one, two lounges on one Pi): each pair
 * of processes has its own port and data directory, and nothing one does shows on the other.
 * Four real processes: two controllers on the simulator and two web processes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { io as connect } from 'socket.io-client';
import { ControllerClient } from '../ipc/client.js';
import type { StationFrame } from '../protocol.js';
import type { SessionRecord } from '../store/types.js';
import { ADMIN_TOKEN, readyBoard, spawnController } from './test-support/harness.js';
import { spawnWeb } from './test-support/web-process.js';

const AUTH = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };

interface Gateway {
  name: string;
  dataDir: string;
  base: string;
  client: ControllerClient;
}

async function startGateway(t: TestContext, name: string): Promise<Gateway> {
  const dataDir = mkdtempSync(join(tmpdir(), `presso-${name}-`));
  const controller = spawnController(dataDir);
  const client = new ControllerClient({ log: { info: () => {}, warn: () => {}, error: () => {} } });
  await client.connect(join(dataDir, 'controller.sock'), { retry: true });
  const web = await spawnWeb(dataDir, { PRESSO_ADMIN_TOKEN: ADMIN_TOKEN });
  t.after(async () => {
    await web.kill();
    await client.close();
    await controller.kill();
    rmSync(dataDir, { recursive: true, force: true });
  });
  // The web process reconciles with its controller when it connects: wait until it has.
  for (const until = Date.now() + 15_000; ;) {
    const health = (await (await fetch(`${web.base}/api/health`)).json()) as { controller: string };
    if (health.controller === 'connected') break;
    assert.ok(Date.now() < until, `${name}: web process never connected to its controller`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { name, dataDir, base: web.base, client };
}

async function json<T>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

async function startSession(g: Gateway): Promise<SessionRecord> {
  await readyBoard(g.client);
  const res = await fetch(`${g.base}/api/stations/bay-1/start`, {
    method: 'POST',
    headers: AUTH,
    body: JSON.stringify({ programId: 'leg-circulation', client: `${g.name} client`, durationMin: 5 }),
  });
  const body = await json<{ session: SessionRecord; message?: string }>(res);
  assert.equal(res.status, 201, `${g.name}: ${JSON.stringify(body)}`);
  return body.session;
}

test('two gateways with their own ports and data directories do not disturb each other', async (t) => {
  const a = await startGateway(t, 'gw-a');
  const b = await startGateway(t, 'gw-b');
  assert.notEqual(a.base, b.base);

  // Watch B's bay-1 live while A runs its bay-1.
  const watcher = connect(b.base, { transports: ['websocket'], reconnection: false });
  t.after(() => watcher.close());
  const seenOnB: Partial<StationFrame>[] = [];
  watcher.on('station', (m: Partial<StationFrame>) => seenOnB.push(m));
  await new Promise<void>((resolve, reject) => {
    watcher.once('connect', () => resolve());
    watcher.once('connect_error', reject);
  });
  assert.deepEqual(await watcher.timeout(2000).emitWithAck('subscribe', { stationId: 'bay-1' }), {
    ok: true,
  });

  let onA = await startSession(a);
  // Long enough for A's first zone to fill well above zero.
  for (let until = Date.now() + 15_000, restarts = 0; ;) {
    const st = await json<{
      state: string;
      zones: { pressureMmHg: number | null }[];
      alarms: { code: string }[];
    }>(await fetch(`${a.base}/api/stations/bay-1`));
    const codes = st.alarms.map((x) => x.code);
    if (st.state === 'fault' && codes.every((c) => c === 'loop-stall') && restarts < 2) {
      // Four processes on two cores next to other tests: a starved tick trips the loop-stall rule
      // and vents, as it should. That is the controller's own test; here, start again.
      console.log(`# A tripped on a loop stall; starting its session again (${++restarts})`);
      onA = await startSession(a);
      until = Date.now() + 15_000;
      continue;
    }
    assert.equal(st.state, 'running', `A runs its session (alarms: ${codes.join(', ') || 'none'})`);
    if ((st.zones[0]?.pressureMmHg ?? 0) > 20) break;
    assert.ok(Date.now() < until, 'A’s first zone never filled');
    await new Promise((r) => setTimeout(r, 100));
  }

  const bStation = await json<{
    state: string;
    session: unknown;
    zones: { pressureMmHg: number | null }[];
    alarms: { code: string }[];
  }>(await fetch(`${b.base}/api/stations/bay-1`));
  // Idle — or vented by its own loop-stall rule when this 2-core machine starved it (CPU is the
  // one thing two gateways on one machine do share); never running, never A's session.
  assert.ok(
    bStation.state === 'idle' ||
      (bStation.state === 'fault' && bStation.alarms.every((x) => x.code === 'loop-stall')),
    `B’s bay-1 is untouched: ${bStation.state}, alarms ${bStation.alarms.map((x) => x.code).join(', ')}`,
  );
  assert.equal(bStation.session, null);
  assert.ok(bStation.zones.every((z) => (z.pressureMmHg ?? 0) < 5));
  assert.ok(seenOnB.length > 0, 'B streamed its own telemetry');
  assert.ok(
    seenOnB.every((m) => m.state !== 'running'),
    'B’s live stream never showed a running station',
  );
  assert.ok(seenOnB.every((m) => m.session === undefined || m.session === null));

  const sessionsOf = async (g: Gateway) =>
    (await json<{ sessions: SessionRecord[] }>(await fetch(`${g.base}/api/sessions`, { headers: AUTH })))
      .sessions;
  const idOfA = onA.id;
  assert.ok(
    (await sessionsOf(a)).some((s) => s.id === idOfA),
    'A’s database has its session',
  );
  assert.deepEqual(await sessionsOf(b), [], 'B’s database has no session of A');

  // B can run its own at the same time, and stopping A leaves B running.
  const onB = await startSession(b);
  assert.notEqual(onB.id, onA.id);
  const stopA = await fetch(`${a.base}/api/stations/bay-1/stop`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  assert.equal(stopA.status, 200);
  const bAfter = await json<{ state: string; session: { id: string } | null }>(
    await fetch(`${b.base}/api/stations/bay-1`),
  );
  assert.equal(bAfter.state, 'running');
  assert.equal(bAfter.session?.id, onB.id);

  // Each data directory holds only its own gateway's files.
  for (const g of [a, b]) {
    const files = readdirSync(g.dataDir);
    assert.ok(files.includes('presso.json') && files.includes('controller.sock'), files.join(', '));
  }
});
