/**
 * One centre, three gateways (issue 15): three controller + web process pairs with their own data
 * directories, on a real Mosquitto with a password file and an ACL (docs/centre.md) started on a
 * free loopback port. What a centre must do: B's station on A's board within 1 s, A's STOP vents
 * B's station and B's history names A, the retained topics carry the documented payloads, bad
 * payloads are dropped and logged, a stranger cannot stop a station, a broker restart changes no
 * station and the view recovers, and a gateway that dies shows offline within its keep-alive.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { io as connect, type Socket } from 'socket.io-client';
import { Compile } from 'typebox/compile';
import {
  SessionEventPayloadSchema,
  StatePayloadSchema,
  StatusPayloadSchema,
  type CentreStationsResponse,
  type CentreStatus,
  type StatePayload,
} from '../centre/schemas.js';
import { mqttPub, retained, startBroker, type Broker } from '../centre/test-support/broker.js';
import { ControllerClient } from '../ipc/client.js';
import type { SessionRecord } from '../store/types.js';
import { ADMIN_TOKEN, readyBoard, spawnController } from './test-support/harness.js';
import { spawnWeb, type WebProcess } from './test-support/web-process.js';

const AUTH = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
const CENTRE = 'spa';
const KEEPALIVE_S = 2;
const IDS = ['gw-a', 'gw-b', 'gw-c'] as const;
const PASSWORDS: Record<string, string> = {
  'gw-a': 'pw-a-71',
  'gw-b': 'pw-b-72',
  'gw-c': 'pw-c-73',
  visitor: 'pw-v-74',
};
/** Each gateway writes its own subtree and any station's stop; a visitor only reads. */
const ACL = [
  ...IDS.flatMap((id) => [
    `user ${id}`,
    `topic readwrite presso/${CENTRE}/${id}/#`,
    `topic write presso/${CENTRE}/+/stations/+/stop`,
    `topic read presso/${CENTRE}/#`,
    '',
  ]),
  'user visitor',
  `topic read presso/${CENTRE}/#`,
  '',
].join('\n');

interface Gateway {
  id: string;
  dataDir: string;
  web: WebProcess;
  base: string;
  client: ControllerClient;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const json = async <T>(res: Response): Promise<T> => (await res.json()) as T;

async function startGateway(t: TestContext, id: string, broker: Broker): Promise<Gateway> {
  const dataDir = mkdtempSync(join(tmpdir(), `presso-${id}-`));
  const controller = spawnController(dataDir);
  const client = new ControllerClient({ log: { info: () => {}, warn: () => {}, error: () => {} } });
  await client.connect(join(dataDir, 'controller.sock'), { retry: true });
  const web = await spawnWeb(dataDir, {
    PRESSO_ADMIN_TOKEN: ADMIN_TOKEN,
    PRESSO_MQTT_URL: broker.url,
    PRESSO_MQTT_USERNAME: id,
    PRESSO_MQTT_PASSWORD: PASSWORDS[id] ?? '',
    PRESSO_GATEWAY_ID: id,
    PRESSO_CENTRE_ID: CENTRE,
    PRESSO_MQTT_KEEPALIVE_S: String(KEEPALIVE_S),
    PRESSO_MQTT_RECONNECT_MAX_MS: '1000',
  });
  t.after(async () => {
    await web.kill();
    await client.close();
    await controller.kill();
    rmSync(dataDir, { recursive: true, force: true });
  });
  for (const until = Date.now() + 15_000; ; await sleep(100)) {
    const health = await json<{ controller: string }>(await fetch(`${web.base}/api/health`));
    if (health.controller === 'connected') break;
    assert.ok(Date.now() < until, `${id}: web process never connected to its controller`);
  }
  return { id, dataDir, web, base: web.base, client };
}

async function until<T>(
  what: string,
  ms: number,
  probe: () => Promise<T | undefined> | T | undefined,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
    await sleep(50);
  }
}

async function stationState(g: Gateway, id = 'bay-1'): Promise<string> {
  return (await json<{ state: string }>(await fetch(`${g.base}/api/stations/${id}`))).state;
}

async function startSession(g: Gateway, station = 'bay-1'): Promise<SessionRecord> {
  await readyBoard(g.client);
  const res = await fetch(`${g.base}/api/stations/${station}/start`, {
    method: 'POST',
    headers: AUTH,
    body: JSON.stringify({ programId: 'leg-circulation', client: `Secret Client ${g.id}`, durationMin: 5 }),
  });
  const body = await json<{ session: SessionRecord }>(res);
  assert.equal(res.status, 201, `${g.id}: ${JSON.stringify(body)}`);
  return body.session;
}

/** A's board: the live link subscribed to its own stations and the centre's. */
async function board(t: TestContext, g: Gateway) {
  // Reconnects and subscribes again, as the dashboard does: on a loaded machine a websocket can
  // miss its ping deadline, which is not what this test is about.
  const socket: Socket = connect(g.base, { transports: ['websocket'], reconnectionDelay: 200 });
  t.after(() => socket.close());
  const views = new Map<string, Record<string, unknown>>();
  const seenAt = new Map<string, number>();
  let centre: CentreStatus | null = null;
  socket.on('station', (m: Record<string, unknown> & { id: string }) => {
    views.set(m.id, { ...views.get(m.id), ...m });
    seenAt.set(m.id, Date.now());
  });
  socket.on('centre', (c: CentreStatus) => (centre = c));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  assert.deepEqual(await socket.timeout(2000).emitWithAck('subscribe', { overview: true }), { ok: true });
  assert.deepEqual(await socket.timeout(2000).emitWithAck('subscribe', { centre: true }), { ok: true });
  socket.io.on('reconnect', () => {
    console.log(`# ${g.id}'s board reconnected`);
    socket.emit('subscribe', { overview: true });
    socket.emit('subscribe', { centre: true });
  });
  return { views, seenAt, centre: () => centre as CentreStatus | null };
}

test('three gateways on one broker act as one centre', { timeout: 150_000 }, async (t) => {
  const broker = await startBroker({ users: PASSWORDS, acl: ACL });
  t.after(async () => {
    await broker.kill();
    broker.remove();
  });
  const [a, b, c] = (await Promise.all(IDS.map((id) => startGateway(t, id, broker)))) as [
    Gateway,
    Gateway,
    Gateway,
  ];
  const onA = await board(t, a);
  // A client of A that did not ask for the centre (a walk-up page, the support chart).
  const plain = connect(a.base, { transports: ['websocket'] });
  t.after(() => plain.close());
  const plainIds = new Set<string>();
  plain.on('station', (m: { id: string }) => plainIds.add(m.id));
  await new Promise<void>((resolve) => plain.once('connect', () => resolve()));
  assert.deepEqual(await plain.timeout(2000).emitWithAck('subscribe', { overview: true }), { ok: true });
  // B's events (not retained), as a read-only client of the broker sees them.
  const sub = spawn('mosquitto_sub', [
    '-h',
    '127.0.0.1',
    '-p',
    String(broker.port),
    '-u',
    'visitor',
    '-P',
    PASSWORDS.visitor ?? '',
    '-v',
    '-t',
    `presso/${CENTRE}/gw-b/sessions`,
    '-t',
    `presso/${CENTRE}/gw-b/alarms`,
  ]);
  let events = '';
  sub.stdout.on('data', (c: Buffer) => (events += c.toString()));
  t.after(() => sub.kill());
  await until('A sees all three gateways online', 10_000, () =>
    onA.centre()?.gateways.filter((g) => g.online).length === 3 ? true : undefined,
  );

  // B's station appears on A's board within 1 s of its start.
  const started = Date.now();
  const session = await startSession(b);
  await until("B's running station on A's board", 1000, () =>
    onA.views.get('gw-b/bay-1')?.state === 'running' ? true : undefined,
  );
  console.log(`# B's start reached A's board ${Date.now() - started} ms after the start request`);
  const tile = onA.views.get('gw-b/bay-1') ?? {};
  assert.equal(tile.gatewayId, 'gw-b');
  assert.equal(tile.stationId, 'bay-1');
  assert.ok(Array.isArray(tile.zones) && (tile.zones as unknown[]).length > 0);
  assert.ok(!onA.views.has('gw-a/bay-1'), "A's own stations come from its controller, not the broker");
  assert.ok(plainIds.has('bay-1'), 'the overview client gets A’s stations');
  assert.ok(![...plainIds].some((id) => id.includes('/')), 'and no other gateway’s without {centre: true}');

  // The retained topics carry the documented payloads, and no client name.
  const topicsSeen = retained(broker, `presso/${CENTRE}/#`, {
    user: 'visitor',
    password: PASSWORDS.visitor ?? '',
  });
  const status = JSON.parse(topicsSeen.get(`presso/${CENTRE}/gw-b/status`) ?? 'null') as Record<
    string,
    unknown
  >;
  assert.ok(Compile(StatusPayloadSchema).Check(status), JSON.stringify(status));
  assert.equal(status.online, true);
  assert.equal(status.gatewayId, 'gw-b');
  assert.match(String(status.url), /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(status.url, b.base, "B's status names its own board");
  const state = JSON.parse(
    topicsSeen.get(`presso/${CENTRE}/gw-b/stations/bay-1/state`) ?? 'null',
  ) as StatePayload;
  assert.ok(Compile(StatePayloadSchema).Check(state), 'the state matches its documented schema');
  assert.equal(state.gatewayId, 'gw-b');
  assert.equal(state.id, 'bay-1');
  assert.equal(state.state, 'running');
  assert.equal(state.session?.id, session.id);
  assert.ok(state.zones.every((z) => z.pressureMmHg === null || Number.isInteger(z.pressureMmHg)));
  for (const id of IDS) assert.ok(topicsSeen.has(`presso/${CENTRE}/${id}/stations/bay-2/state`), id);
  assert.ok(
    ![...topicsSeen.values()].some((p) => p.includes('Secret Client')),
    'no client name on the broker',
  );

  // A's GET /api/centre/stations lists every station with its gateway, age and online flag.
  const list = await json<CentreStationsResponse>(await fetch(`${a.base}/api/centre/stations`));
  assert.equal(list.broker, 'connected');
  assert.deepEqual(new Set(list.stations.map((s) => s.gatewayId)), new Set(IDS));
  assert.ok(list.stations.every((s) => s.online && s.ageMs >= 0));

  // A stranger (no write in the ACL) cannot stop C's station.
  await startSession(c);
  mqttPub(broker, `presso/${CENTRE}/gw-c/stations/bay-1/stop`, '{"by":"intruder"}', {
    user: 'visitor',
    password: PASSWORDS.visitor ?? '',
  });
  await sleep(1500);
  assert.equal(await stationState(c), 'running', 'a publisher outside the ACL stopped nothing');

  // Malformed and oversized payloads, from a gateway that may write there: ignored, logged.
  const gwA = { user: 'gw-a', password: PASSWORDS['gw-a'] ?? '' };
  mqttPub(broker, `presso/${CENTRE}/gw-c/stations/bay-1/stop`, 'not json', gwA);
  mqttPub(broker, `presso/${CENTRE}/gw-c/stations/bay-1/stop`, '{"by":5}', gwA);
  mqttPub(
    broker,
    `presso/${CENTRE}/gw-c/stations/bay-1/stop`,
    JSON.stringify({ by: 'x'.repeat(40_000) }),
    gwA,
  );
  mqttPub(broker, `presso/${CENTRE}/gw-a/stations/ghost/state`, '{"id":"ghost","gatewayId":"gw-a"}', gwA);
  mqttPub(broker, `presso/${CENTRE}/gw-a/alarms`, '[1,2,3', gwA);
  await until('C logs the dropped messages', 5000, () =>
    c.web.output().includes('centre: ignored a message') ? true : undefined,
  );
  assert.match(c.web.output(), /payload is not JSON|payload of \d+ bytes|payload\.by/);
  assert.match(b.web.output(), /centre: ignored a message: presso\/spa\/gw-a\/stations\/ghost\/state/);
  assert.equal(await stationState(c), 'running', 'no malformed STOP stopped anything');
  for (const g of [a, b, c]) assert.equal((await fetch(`${g.base}/api/health`)).status, 200, `${g.id} is up`);

  // STOP on A's board vents B's station; B's history says who stopped it, B's audit where from.
  const stop = await fetch(`${a.base}/api/centre/stations/gw-b/bay-1/stop`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  const stopped = await json<{ station: StatePayload }>(stop);
  assert.equal(stop.status, 200, JSON.stringify(stopped));
  assert.ok(['venting', 'idle'].includes(stopped.station.state), stopped.station.state);
  assert.ok(['venting', 'idle'].includes(await stationState(b)));
  const history = await json<{ sessions: (SessionRecord & { reason?: string })[] }>(
    await fetch(`${b.base}/api/sessions`, { headers: AUTH }),
  );
  const ended = history.sessions.find((s) => s.id === session.id);
  assert.match(String(ended?.reason), /stopped from the centre by gw-a: anonymous/);
  // The sessions topic said it started and ended, with the documented payload and no name.
  const sessionEvents = await until('B announced the end of its session', 5000, () => {
    const list = events
      .split('\n')
      .filter((l) => l.startsWith(`presso/${CENTRE}/gw-b/sessions `))
      .map((l) => JSON.parse(l.slice(l.indexOf(' ') + 1)) as { kind: string; sessionId: string });
    return list.some((e) => e.kind === 'ended' && e.sessionId === session.id) ? list : undefined;
  });
  const checkEvent = Compile(SessionEventPayloadSchema);
  assert.ok(
    sessionEvents.every((e) => checkEvent.Check(e)),
    JSON.stringify(sessionEvents),
  );
  assert.ok(sessionEvents.some((e) => e.kind === 'started' && e.sessionId === session.id));
  assert.ok(!events.includes('Secret Client'), 'no client name in the events');
  const audit = await json<{ audit: { who: string; what: string; from: string; ok: boolean }[] }>(
    await fetch(`${b.base}/api/audit?action=mqtt`, { headers: AUTH }),
  );
  assert.ok(
    audit.audit.some(
      (e) =>
        e.ok &&
        e.what === `MQTT presso/${CENTRE}/gw-b/stations/bay-1/stop` &&
        e.who === 'gw-a: anonymous' &&
        e.from.startsWith('mqtt '),
    ),
    JSON.stringify(audit.audit),
  );

  // The broker dies and comes back: no station changes state, the centre view recovers.
  const before = await Promise.all([a, b, c].map((g) => stationState(g, 'bay-1')));
  assert.equal(before[2], 'running');
  await broker.kill();
  await until("A's board says the centre view is stale", 5000, () =>
    onA.centre()?.broker === 'disconnected' ? true : undefined,
  );
  await sleep(1000);
  const restarted = await broker.restart();
  t.after(async () => {
    await restarted.kill();
  });
  await until('A resyncs from the restarted broker', 15_000, async () => {
    const l = await json<CentreStationsResponse>(await fetch(`${a.base}/api/centre/stations`));
    const cBay1 = l.stations.find((s) => s.gatewayId === 'gw-c' && s.station.id === 'bay-1');
    return l.broker === 'connected' &&
      l.gateways.filter((g) => g.online).length === 3 &&
      cBay1?.ageMs !== undefined &&
      cBay1.ageMs < 2000 &&
      cBay1.station.state === 'running'
      ? true
      : undefined;
  });
  const after = await Promise.all([a, b, c].map((g) => stationState(g, 'bay-1')));
  // B's vented station may have finished venting meanwhile; nothing else moved.
  assert.deepEqual(
    after.map((s) => (s === 'venting' ? 'idle' : s)),
    before.map((s) => (s === 'venting' ? 'idle' : s)),
  );
  assert.equal(onA.centre()?.broker, 'connected');

  // B dies: A shows it offline (its last will) within the keep-alive bound.
  const killedAt = Date.now();
  await b.web.kill('SIGKILL');
  await until('A shows B offline', KEEPALIVE_S * 1500 + 1000, () =>
    onA.centre()?.gateways.find((g) => g.gatewayId === 'gw-b')?.online === false ? true : undefined,
  ).catch(async (e: Error) => {
    const l = await json<CentreStationsResponse>(await fetch(`${a.base}/api/centre/stations`));
    throw new Error(
      `${e.message}; A's REST: broker ${l.broker}, ${JSON.stringify(l.gateways)}; its board: ${JSON.stringify(onA.centre())}\n${restarted.output()}`,
    );
  });
  console.log(`# A showed B offline ${Date.now() - killedAt} ms after B was killed`);
  const refused = await fetch(`${a.base}/api/centre/stations/gw-b/bay-2/stop`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  assert.equal(refused.status, 503);
  assert.match(((await refused.json()) as { message: string }).message, /gateway "gw-b" is offline/);
});
