/**
 * The web process against the real controller process (simulated board): the path a session
 * takes from the start button to its report, live telemetry, controller restarts, shutdown.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StationFrame } from '../protocol.js';
import type { SessionRecord } from '../store/types.js';
import type { SessionMessage } from './plugins/live.js';
import { nextEvent, readyBoard, spawnController, startHarness, waitFor } from './test-support/harness.js';

type StationMessage = Partial<StationFrame> & { id: string };

test('a staff start is stored before the controller runs it, streams telemetry, and a stop leaves a report', async (t) => {
  const h = await startHarness(t);
  const order: string[] = [];
  const flush = h.store.flush.bind(h.store);
  h.store.flush = async () => {
    await flush();
    order.push('flushed');
  };
  const request = h.client.request.bind(h.client);
  h.client.request = (async (cmd, args, timeout) => {
    if (cmd === 'start') {
      const onDisk = await h.store.session((args as { sessionId: string }).sessionId);
      order.push(`start:${onDisk?.status ?? 'missing'}`);
    }
    return request(cmd, args, timeout);
  }) as typeof h.client.request;

  await readyBoard(h.client);
  const follower = await h.socket();
  const overview = await h.socket();
  const stationMsgs: StationMessage[] = [];
  const overviewMsgs: StationMessage[] = [];
  follower.on('station', (m: StationMessage) => stationMsgs.push(m));
  overview.on('station', (m: StationMessage) => overviewMsgs.push(m));
  assert.deepEqual(await follower.emitWithAck('subscribe', { stationId: 'bay-1' }), { ok: true });
  assert.deepEqual(await overview.emitWithAck('subscribe', { overview: true }), { ok: true });
  // The first bay-1 message may arrive before the subscribe ack: take it from what was collected.
  const firstFull = await waitFor(() => stationMsgs.find((m) => m.id === 'bay-1'));
  assert.equal(firstFull.state, 'idle', 'the first message is complete');
  assert.ok(Array.isArray(firstFull.zones));

  const sessionEvent = nextEvent<SessionMessage>(follower, 'session', (m) => m.kind === 'started');
  const res = await h.app.inject({
    method: 'POST',
    url: '/api/stations/bay-1/start',
    headers: { cookie: h.cookies.staff },
    payload: { programId: 'leg-circulation', client: 'Ann Example', pressureMmHg: 40, durationMin: 10 },
  });
  assert.equal(res.statusCode, 201, res.body);
  const { session } = res.json<{ session: SessionRecord }>();
  assert.equal(session.programVersion, 1);
  assert.deepEqual(
    order.slice(0, 2),
    ['flushed', 'start:running'],
    'flushed to disk before the controller was asked',
  );
  assert.equal((await sessionEvent).id, session.id);

  // Frames are pushed as they arrive, so this one may be in before a listener could be attached
  // here: take it from what was collected.
  const running = await waitFor(() => stationMsgs.find((m) => m.id === 'bay-1' && m.state === 'running'));
  assert.equal(running.session?.id, session.id);

  // Rates: ≤ 20 Hz for a followed station, ≤ 5 Hz per station for the overview.
  stationMsgs.length = 0;
  overviewMsgs.length = 0;
  await new Promise((r) => setTimeout(r, 1000));
  const followed = stationMsgs.filter((m) => m.id === 'bay-1').length;
  const overviewBay1 = overviewMsgs.filter((m) => m.id === 'bay-1').length;
  assert.ok(followed >= 5 && followed <= 21, `station messages in 1 s: ${followed}`);
  assert.ok(overviewBay1 >= 1 && overviewBay1 <= 6, `overview messages in 1 s: ${overviewBay1}`);
  assert.ok(
    stationMsgs.every((m) => m.id === 'bay-1'),
    'a station follower gets only its station',
  );
  assert.ok(
    stationMsgs.some((m) => m.zones !== undefined && m.name === undefined),
    'later messages carry only what changed',
  );

  const view = (await h.app.inject({ url: '/api/stations/bay-1' })).json<{
    state: string;
    remainingS: number;
    zones: { zone: number; pressureMmHg: number | null; targetMmHg: number }[];
    program: { id: string; version: number };
  }>();
  assert.equal(view.state, 'running');
  assert.equal(view.program.id, 'leg-circulation');
  assert.ok(view.remainingS > 0 && view.remainingS <= 600);
  assert.equal(view.zones.length, 5);

  const ended = nextEvent<SessionMessage>(follower, 'session', (m) => m.kind === 'ended');
  const stop = await h.app.inject({ method: 'POST', url: '/api/stations/bay-1/stop', payload: {} });
  assert.equal(stop.statusCode, 200, stop.body);
  assert.equal((await ended).status, 'stopped');

  // Staff read names; a viewer sees the same session without one (issue 14, docs/privacy.md).
  const stored = await h.app.inject({
    url: `/api/sessions/${session.id}`,
    headers: { cookie: h.cookies.staff },
  });
  const asViewer = await h.app.inject({
    url: `/api/sessions/${session.id}`,
    headers: { cookie: h.cookies.viewer },
  });
  assert.equal(asViewer.json<SessionRecord>().client, '(hidden)');
  const rec = stored.json<SessionRecord>();
  assert.equal(rec.status, 'stopped');
  assert.ok(rec.report, 'the controller report is stored');
  assert.equal(rec.report.sessionId, session.id);
  assert.ok(rec.report.deliveredMs > 500, `delivered ${rec.report.deliveredMs} ms`);
  assert.equal(rec.client, 'Ann Example');

  const csv = await h.app.inject({
    url: '/api/sessions?station=bay-1&format=csv',
    headers: { cookie: h.cookies.staff },
  });
  assert.equal(csv.statusCode, 200);
  assert.match(csv.headers['content-type'] as string, /text\/csv/);
  assert.match(csv.body, new RegExp(`${session.id},bay-1,leg-circulation,1,Ann Example`));

  const audit = h.store.audit().find((a) => a.what === 'POST /api/stations/bay-1/stop');
  assert.ok(audit);
  assert.equal(audit.who, 'anonymous');
  assert.equal(audit.from, '127.0.0.1');
});

test('a start the controller refuses is answered 409 in its words and the record is marked, not running', async (t) => {
  const h = await startHarness(t);
  // Skipping every zone of the garment: only the controller knows the station's zone count.
  const res = await h.app.inject({
    method: 'POST',
    url: '/api/stations/bay-1/start',
    headers: { cookie: h.cookies.staff },
    payload: { programId: 'leg-circulation', skipZones: [1, 2, 3, 4, 5] },
  });
  assert.ok(res.statusCode === 409 || res.statusCode === 400, res.body);
  const body = res.json<{ message: string }>();
  const [rec] = await h.store.sessions();
  assert.ok(rec, 'the session was persisted before asking');
  assert.equal(rec.status, 'refused');
  assert.equal(rec.reason, `not started: ${body.message}`);
  assert.equal((await h.client.request('state', { stationId: 'bay-1' }))[0]?.state, 'idle');
});

test('when the controller dies and comes back, its running session is marked interrupted with the time delivered', async (t) => {
  const h = await startHarness(t);
  const res = await h.app.inject({
    method: 'POST',
    url: '/api/stations/bay-2/start',
    headers: { cookie: h.cookies.staff },
    payload: { programId: 'leg-relaxation', client: 'Bo' },
  });
  assert.equal(res.statusCode, 201, res.body);
  const { session } = res.json<{ session: SessionRecord }>();
  await new Promise((r) => setTimeout(r, 1500));

  await h.controller.kill('SIGKILL');
  await waitFor(async () =>
    (await h.app.inject({ url: '/api/health' })).json<{ controller: string }>().controller === 'disconnected'
      ? true
      : undefined,
  );
  assert.equal(
    (await h.app.inject({ url: '/api/stations' })).statusCode,
    503,
    'station state is unknown, said so',
  );
  assert.equal(
    (await h.store.session(session.id))?.status,
    'running',
    'not marked while the controller is only unreachable',
  );

  h.controller = spawnController(h.controller.dataDir);
  await waitFor(
    async () =>
      (await h.app.inject({ url: '/api/health' })).json<{ controller: string }>().controller === 'connected'
        ? true
        : undefined,
    20_000,
  );
  const rec = await waitFor(async () => {
    const r = await h.store.session(session.id);
    return r?.status === 'interrupted' ? r : undefined;
  });
  assert.ok(rec.report);
  assert.ok(
    rec.report.deliveredMs >= 1000 && rec.report.deliveredMs <= 5000,
    `delivered ${rec.report.deliveredMs} ms`,
  );
  assert.match(rec.reason ?? '', /controller restarted/);
});

test('closing the server with live clients connected returns promptly', async (t) => {
  const h = await startHarness(t);
  const sockets = await Promise.all([h.socket(), h.socket(), h.socket()]);
  for (const s of sockets) await s.emitWithAck('subscribe', { overview: true });
  const disconnected = sockets.map((s) => new Promise((r) => s.once('disconnect', r)));
  const t0 = performance.now();
  await h.app.close();
  const ms = performance.now() - t0;
  assert.ok(ms < 1000, `close took ${ms} ms`);
  await Promise.all(disconnected);
});
